// «Solicitudes»: complaints, claims, suggestions and information requests (bot/tickets/).
import { $, loadFragment } from "../lib/dom.js";

export function mount() {
  return loadFragment($("tickets-view"), new URL("./tickets.html", import.meta.url));
}

export function reset() {}

export function show() {}
