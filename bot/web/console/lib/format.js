// Texts for the page: durations, dates and times (Lima), numbers, and the labels of the codes
// the API sends (channels, escalation reasons, roles).

export const CHANNELS = { webchat: "Web", messenger: "Messenger", whatsapp: "WhatsApp", twilio: "WhatsApp (Twilio)" };
export const REASONS = {
  pedido: "Pidió una persona",
  tema: "Tema derivado",
  frustracion: "Molestia",
  no_entiende: "No se le entendió",
  repite: "Repite la pregunta"
};
export const ROLES = { agent: "Asesor", supervisor: "Supervisor", admin: "Administrador" };

export function channelLabel(channel) { return CHANNELS[channel] || channel || "Canal desconocido"; }
export function reasonLabel(reason) { return REASONS[reason] || reason || "Sin motivo"; }
export function confidenceLabel(confidence) {
  return typeof confidence === "number" ? Math.round(confidence * 100) + " %" : "—";
}

// --- durations and dates ------------------------------------------------------------------------

export function durationText(seconds) {
  seconds = Math.max(0, Math.round(seconds));
  if (seconds < 60) return "menos de 1 min";
  var minutes = Math.floor(seconds / 60);
  if (minutes < 60) return minutes + " min";
  var hours = Math.floor(minutes / 60);
  var rest = minutes % 60;
  return rest ? hours + " h " + rest + " min" : hours + " h";
}

export function agoText(seconds) { return "hace " + durationText(seconds); }

export function secondsText(seconds) {
  if (typeof seconds !== "number") return "";
  return seconds < 60 ? Math.max(1, Math.round(seconds)) + " s" : durationText(seconds);
}

export function clock(iso) {
  if (!iso) return "";
  var date = new Date(iso);
  if (isNaN(date.getTime())) return "";
  try {
    return date.toLocaleTimeString("es-PE", { hour: "2-digit", minute: "2-digit", timeZone: "America/Lima" });
  } catch (e) {
    return date.toLocaleTimeString();
  }
}

export function dateTime(iso) {
  if (!iso) return "";
  var date = new Date(iso);
  if (isNaN(date.getTime())) return "";
  try {
    return date.toLocaleString("es-PE", { dateStyle: "short", timeStyle: "short", timeZone: "America/Lima" });
  } catch (e) {
    return date.toLocaleString();
  }
}

// "2024-01-15" → "15/01/2024".
export function dayText(iso) {
  var parts = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
  return parts ? parts[3] + "/" + parts[2] + "/" + parts[1] : (iso || "—");
}

// Today in Lima, as YYYY-MM-DD.
export function limaToday() {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone: "America/Lima", year: "numeric", month: "2-digit", day: "2-digit" })
      .format(new Date());
  } catch (e) {
    return new Date().toISOString().slice(0, 10);
  }
}

// --- numbers and words --------------------------------------------------------------------------

export function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

export function decimal(value, digits) {
  if (typeof value !== "number") return "—";
  return value.toLocaleString("es-PE", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function signed(value) {
  if (typeof value !== "number") return "—";
  return (value > 0 ? "+" : value < 0 ? "−" : "") + decimal(Math.abs(value), 3);
}

export function percentText(value) {
  return typeof value === "number" ? decimal(value * 100, 1) + " %" : "—";
}

// Lower case without accents, for searching.
export function plainText(text) {
  return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

// --- links --------------------------------------------------------------------------------------

export function safeUrl(url) {
  return /^https?:\/\//i.test(url || "") ? url : null;
}

export function hostOf(url) {
  try { return new URL(url).hostname; } catch (e) { return url; }
}
