// Live preview for the submission wizard and the revision form: after a pause in typing, the
// Markdown is posted to the server, which renders and sanitises it exactly as the Preview button
// does, and the returned fragment replaces the preview. Nothing is rendered here, so the page
// shows no markup the server did not write. Without this script the Preview button still works.
(function () {
  "use strict";
  var PAUSE_MS = 400;

  function attach(form) {
    var source = form.querySelector("textarea[name=source_text]");
    var csrf = form.querySelector("input[name=csrf]");
    var panel = form.querySelector("[data-live-preview]");
    var body = panel && panel.querySelector(".preview-body");
    if (!source || !csrf || !body || !window.fetch || !window.AbortController) return;
    var timer = null;
    var inFlight = null;
    var sent = source.value;

    function show(html) {
      body.innerHTML = html;
      panel.hidden = html === "";
      panel.removeAttribute("aria-busy");
    }

    function refresh() {
      var text = source.value;
      if (text === sent && !panel.hidden) return;
      sent = text;
      if (inFlight) inFlight.abort(); // only the latest text's answer may land
      if (!text.trim()) {
        show("");
        return;
      }
      inFlight = new AbortController();
      panel.setAttribute("aria-busy", "true");
      // Multipart, as the form itself posts: the text travels as UTF-8, not percent-encoded.
      var data = new FormData();
      data.append("csrf", csrf.value);
      data.append("source_text", text);
      fetch(panel.getAttribute("data-live-preview"), {
        method: "POST",
        credentials: "same-origin",
        body: data,
        signal: inFlight.signal,
      })
        .then(function (response) {
          return response.text();
        })
        .then(show)
        .catch(function (error) {
          if (error.name !== "AbortError") panel.removeAttribute("aria-busy");
        });
    }

    source.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, PAUSE_MS);
    });
  }

  document.querySelectorAll("form.wizard").forEach(attach);
})();
