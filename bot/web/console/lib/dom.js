// DOM helpers shared by every part of the console. Every text written by a citizen, an agent or
// the server goes into the page with textContent, never as HTML.

export const PAGE_TITLE = "Consola de asesores";

export function $(id) { return document.getElementById(id); }

export function el(tag, attrs, text) {
  var node = document.createElement(tag);
  if (attrs) {
    Object.keys(attrs).forEach(function (key) {
      if (key === "className") node.className = attrs[key];
      else if (key === "dataset") Object.keys(attrs[key]).forEach(function (d) { node.dataset[d] = attrs[key][d]; });
      else node.setAttribute(key, attrs[key]);
    });
  }
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// A message box (error or information): shown with its text, hidden without one.
export function showError(box, text) {
  box.textContent = text || "";
  box.hidden = !text;
}

export function setText(node, text) {
  // Live regions re-announce a text set again; only real changes are written.
  if (node.textContent !== text) node.textContent = text;
}

export function setDisabled(form, disabled) {
  Array.prototype.forEach.call(form.elements, function (control) { control.disabled = disabled; });
}

// A box with a list of texts, hidden when there are none.
export function showList(box, list, items) {
  list.textContent = "";
  items.forEach(function (text) { list.appendChild(el("li", null, text)); });
  box.hidden = !items.length;
}

// "<name>-count" shows the number; "<name>-empty" says the list is empty.
export function setCount(name, count) {
  $(name + "-count").textContent = String(count);
  $(name + "-empty").hidden = count > 0;
}

// Said by screen readers (the page's live region).
export function announce(text) {
  var box = $("announcer");
  box.textContent = "";
  window.setTimeout(function () { box.textContent = text; }, 50);
}

// Puts a view's markup (an HTML file of the console, next to its module) into its container.
// The file is the gateway's own static file, never text from a user.
export function loadFragment(container, url) {
  return fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } }).then(function (res) {
    if (!res.ok) throw new Error("No se pudo cargar " + url + " (" + res.status + ").");
    return res.text();
  }).then(function (html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    container.replaceChildren(template.content);
  });
}
