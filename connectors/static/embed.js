// Embeds the web chat in any page: <script src="https://YOUR-GATEWAY/static/embed.js" defer></script>
(function () {
  "use strict";
  var origin = new URL(document.currentScript.src).origin;
  var open = false;
  var button = document.createElement("button");
  button.type = "button";
  button.textContent = "¿Dudas tributarias? Escríbenos";
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "asistente-sunat-frame");
  button.style.cssText = "position:fixed;right:16px;bottom:16px;z-index:2147483000;background:#c8102e;color:#fff;border:0;border-radius:999px;padding:12px 18px;font:16px system-ui,sans-serif;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.3)";
  var frame = document.createElement("iframe");
  frame.id = "asistente-sunat-frame";
  frame.title = "Asistente virtual para emprendedores";
  frame.src = origin + "/";
  frame.hidden = true;
  frame.style.cssText = "position:fixed;right:16px;bottom:72px;z-index:2147483000;width:min(380px,calc(100vw - 32px));height:min(600px,calc(100vh - 96px));border:1px solid #ccc;border-radius:12px;background:#fff;box-shadow:0 4px 16px rgba(0,0,0,.25)";
  button.addEventListener("click", function () {
    open = !open;
    frame.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (open) frame.focus();
  });
  document.body.appendChild(frame);
  document.body.appendChild(button);
})();
