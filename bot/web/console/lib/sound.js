// The sound that announces a new chat in the queue ("Aviso sonoro" in the top bar; the choice
// is remembered in this browser). Browsers start audio only after a click or a key.

import { $ } from "./dom.js";

var SOUND_KEY = "consola.sonido";
var audio = null;

export function mount() {
  $("sound").checked = localStorage.getItem(SOUND_KEY) !== "no";
  $("sound").addEventListener("change", function () {
    localStorage.setItem(SOUND_KEY, $("sound").checked ? "si" : "no");
    if ($("sound").checked) unlockAudio();
  });
  document.addEventListener("click", unlockAudio, { once: true });
  document.addEventListener("keydown", unlockAudio, { once: true });
}

export function unlockAudio() {
  var Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  try {
    if (!audio) audio = new Context();
    if (audio.state === "suspended") audio.resume();
  } catch (e) { audio = null; }
}

export function beep() {
  if (!$("sound").checked) return;
  unlockAudio();
  var ctx = audio;
  if (!ctx) return;
  try {
    var now = ctx.currentTime;
    [0, 0.18].forEach(function (offset) {
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, now + offset);
      gain.gain.exponentialRampToValueAtTime(0.2, now + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.14);
      osc.connect(gain);
      gain.connect(ctx.destination);
      osc.start(now + offset);
      osc.stop(now + offset + 0.15);
    });
  } catch (e) { /* no sound: the title badge still shows */ }
}
