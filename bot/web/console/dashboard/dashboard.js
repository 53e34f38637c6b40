// «Tablero»: how the service is doing, for supervisors and administrators (bot/dashboard/).
import { $, loadFragment } from "../lib/dom.js";

export function mount() {
  return loadFragment($("dashboard-view"), new URL("./dashboard.html", import.meta.url));
}

export function reset() {}

export function show() {}
