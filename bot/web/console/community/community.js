// «Eventos»: community events, registrations and proposed topics (bot/community/).
import { $, loadFragment } from "../lib/dom.js";

export function mount() {
  return loadFragment($("community-view"), new URL("./community.html", import.meta.url));
}

export function reset() {}

export function show() {}
