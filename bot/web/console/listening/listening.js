// «Comentarios»: comments on the agency's fanpage (bot/listening/).
import { $, loadFragment } from "../lib/dom.js";

export function mount() {
  return loadFragment($("listening-view"), new URL("./listening.html", import.meta.url));
}

export function reset() {}

export function show() {}
