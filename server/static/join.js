"use strict";
(function () {
  const tr = window.townhall.tr;
  const form = document.getElementById("join-form");
  const err = document.getElementById("join-error");
  form.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    err.textContent = "";
    const code = document.getElementById("code").value.trim().toUpperCase();
    if (!code) { err.textContent = tr("Type the event code shown on the screen."); return; }
    try {
      const res = await fetch("/api/join", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ code: code, site: new URLSearchParams(location.search).get("site") || "" }),
      });
      const body = await res.json();
      if (!res.ok) { err.textContent = body.error || tr("Could not join."); return; }
      localStorage.setItem("townhall.participant", body.token);
      location.href = "/phone";
    } catch (e) {
      err.textContent = tr("No connection. Check your wifi and try again.");
    }
  });
})();
