// What a field refused by the API's validation means (its own message is a general one): the
// administration's and the workbench's forms.

export const FIELD_PROBLEMS = {
  username: "El usuario debe tener de 2 a 64 caracteres.",
  password: "Escribe una contraseña (hasta 256 caracteres).",
  display_name: "El nombre visible puede tener hasta 120 caracteres.",
  team: "Elige un equipo de la lista.",
  role: "Elige un rol de la lista.",
  active: "Indica si la cuenta está activa.",
  name: "El código del equipo empieza con una letra y solo lleva minúsculas, números y _ (hasta 40).",
  label: "Escribe el nombre del equipo (hasta 120 caracteres).",
  // The workbench's forms.
  items: "Elige al menos un grupo de la bandeja.",
  intent: "El nombre de la intención va en minúsculas, sin tildes ni espacios (letras, números y _), de 3 a 64 caracteres.",
  title: "Escribe el título del artículo (hasta 120 caracteres).",
  answer: "Escribe el texto de la respuesta (hasta 4000 caracteres).",
  source_name: "Escribe el nombre de la fuente oficial (hasta 120 caracteres).",
  source_url: "Escribe el enlace https:// de la fuente oficial (hasta 300 caracteres).",
  extra_examples: "Hasta 200 ejemplos adicionales, uno por línea.",
  override_reason: "El motivo puede tener hasta 500 caracteres."
};

// An ApiError in words: the fields refused, or the server's message.
export function problemText(error) {
  if (error.code === "invalid_request") {
    var texts = [];
    error.details.forEach(function (d) {
      var text = FIELD_PROBLEMS[String((d && d.field) || "").split(".")[0]];
      if (text && texts.indexOf(text) < 0) texts.push(text);
    });
    if (texts.length) return texts.join(" ");
  }
  return error.message;
}
