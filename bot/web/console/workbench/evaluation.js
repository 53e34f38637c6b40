// One model's evaluation in «Modelos»: the verdict against the model in use, accuracy, the test
// conversations, F1 per intent, the test examples whose prediction changed, the confusion matrix.

import { $, el } from "../lib/dom.js";
import { decimal, percentText, plural, signed } from "../lib/format.js";

var CHANGED_SHOWN = 100;
var VERDICTS = {
  better: "Mejor que el modelo en uso", worse: "Peor que el modelo en uso", same: "Igual que el modelo en uso"
};

var current = function () { return null; };

// on.current(): the model whose evaluation is shown (null if none).
export function mount(on) {
  current = on.current;
  $("per-intent-all").addEventListener("change", function () {
    var m = current();
    if (m) renderPerIntent(m);
  });
}

export function reset() {
  ["per-intent", "changed"].forEach(function (id) { $(id).textContent = ""; });
  $("confusion").hidden = true;
  $("confusion-img").removeAttribute("src");
}

export function render(m) {
  var c = m.comparison || null;
  var verdict = $("model-verdict");
  verdict.textContent = verdictText(m, c);
  verdict.dataset.verdict = c && c.verdict ? c.verdict : "none";
  $("model-verdict-note").textContent = c && c.verdict && c.verdict !== "first" ?
    "Comparado con el modelo que estaba en uso cuando se entrenó, con los mismos ejemplos de prueba." : "";

  var accuracy = c && c.accuracy ? c.accuracy : null;
  $("model-accuracy").textContent = accuracy && typeof accuracy.live === "number" ?
    "Exactitud: " + percentText(accuracy.new) + " frente a " + percentText(accuracy.live) + " del modelo en uso." :
    "Exactitud: " + percentText(accuracy ? accuracy.new : m.accuracy) + ".";
  var passed = c && typeof c.conversations_passed === "boolean" ? c.conversations_passed : m.conversations_passed;
  var conversations = $("model-conversations");
  conversations.textContent = passed === true ? "Conversaciones de prueba: todas pasaron." :
    passed === false ? "Conversaciones de prueba: alguna falló. Revisa el registro del entrenamiento antes de desplegarlo." :
      "Conversaciones de prueba: sin resultado.";
  conversations.dataset.passed = passed === true ? "true" : passed === false ? "false" : "unknown";
  conversations.className = passed === true ? "ok" : passed === false ? "bad" : "";

  renderPerIntent(m);
  renderChanged(m);

  var figure = $("confusion");
  figure.hidden = !m.has_confusion_matrix;
  var img = $("confusion-img");
  if (m.has_confusion_matrix) {
    var src = "/api/admin/models/" + m.id + "/confusion.png";
    if (img.getAttribute("src") !== src) img.setAttribute("src", src);
    img.alt = "Matriz de confusión del modelo n.º " + m.id + ": intenciones esperadas frente a las predichas.";
    $("confusion-link").href = src;
  } else {
    img.removeAttribute("src");
    img.alt = "";
  }
}

function verdictText(m, c) {
  if (!c || !c.macro_f1) return "Sin comparación: este modelo no se evaluó frente a otro modelo en uso.";
  if (c.verdict === "first") {
    return "Primer modelo evaluado: macro-F1 " + decimal(c.macro_f1.new, 3) + " (no había otro modelo en uso con qué compararlo).";
  }
  return (VERDICTS[c.verdict] || c.verdict) + ": macro-F1 " + decimal(c.macro_f1.new, 3) + " frente a " +
    decimal(c.macro_f1.live, 3) + " (diferencia " + signed(c.macro_f1.delta) + ").";
}

function perIntentRows(m) {
  var c = m.comparison || {};
  if (c.per_intent && c.per_intent.length) return { compared: true, rows: c.per_intent };
  var own = m.per_intent || {};
  return {
    compared: false,
    rows: Object.keys(own).sort().map(function (name) {
      return { intent: name, "new": own[name], live: {}, delta_f1: null };
    })
  };
}

function renderPerIntent(m) {
  var found = perIntentRows(m);
  var changed = found.rows.filter(function (r) { return typeof r.delta_f1 === "number" && r.delta_f1 !== 0; })
    .sort(function (a, b) { return Math.abs(b.delta_f1) - Math.abs(a.delta_f1); });
  var rest = found.rows.filter(function (r) { return changed.indexOf(r) < 0; });
  var toggle = $("per-intent-all");
  toggle.parentNode.hidden = !found.compared || !rest.length;
  var all = !found.compared || toggle.checked;
  var rows = all ? changed.concat(rest) : changed;
  $("per-intent-note").textContent = !found.rows.length ? "Sin datos por intención." :
    !found.compared ? "Sin modelo en uso con qué comparar: se muestran las " + found.rows.length + " intenciones." :
      changed.length ? plural(changed.length, "intención cambió", "intenciones cambiaron") + " su F1 (de " +
        found.rows.length + ")" + (all ? "; debajo, las demás." : ". Marca «Mostrar todas» para ver las demás.") :
        "Ninguna intención cambió su F1.";
  var body = $("per-intent");
  body.textContent = "";
  rows.forEach(function (r) {
    var n = r["new"] || {};
    var old = r.live || {};
    var row = el("tr", { "data-testid": "per-intent-row", "data-intent": r.intent });
    row.appendChild(el("th", { scope: "row" }, r.intent));
    row.appendChild(el("td", null, decimal(n.f1, 3)));
    row.appendChild(el("td", null, decimal(old.f1, 3)));
    var delta = el("td", { className: typeof r.delta_f1 === "number" && r.delta_f1 > 0 ? "up" :
      typeof r.delta_f1 === "number" && r.delta_f1 < 0 ? "down" : "" }, signed(r.delta_f1));
    row.appendChild(delta);
    row.appendChild(el("td", null, decimal(n.precision, 3)));
    row.appendChild(el("td", null, decimal(n.recall, 3)));
    row.appendChild(el("td", null, typeof n.support === "number" ? String(n.support) : "—"));
    body.appendChild(row);
  });
}

function predictionCell(predicted, expected) {
  var right = predicted === expected;
  var cell = el("td", { className: right ? "ok" : "bad" });
  cell.appendChild(el("code", null, predicted || "—"));
  cell.appendChild(el("span", { className: "visually-hidden" }, right ? " (correcta)" : " (incorrecta)"));
  cell.appendChild(el("span", { className: "mark", "aria-hidden": "true" }, right ? " ✓" : " ✗"));
  return cell;
}

function renderChanged(m) {
  var c = m.comparison || null;
  var changed = (c && c.changed) || [];
  var body = $("changed");
  body.textContent = "";
  changed.slice(0, CHANGED_SHOWN).forEach(function (x) {
    var row = el("tr", { "data-testid": "changed-row" });
    row.appendChild(el("td", { className: "changed__text" }, x.text));
    var expected = el("td");
    expected.appendChild(el("code", null, x.expected));
    row.appendChild(expected);
    row.appendChild(predictionCell(x.live, x.expected));
    row.appendChild(predictionCell(x["new"], x.expected));
    body.appendChild(row);
  });
  $("changed-note").textContent = !c || c.verdict === "first" ? "Sin modelo en uso con qué comparar." :
    !changed.length ? "Ningún ejemplo de prueba cambió de predicción." :
      changed.length > CHANGED_SHOWN ? "Se muestran " + CHANGED_SHOWN + " de " + changed.length + " ejemplos." :
        plural(changed.length, "ejemplo cambió", "ejemplos cambiaron") + " de predicción.";
}
