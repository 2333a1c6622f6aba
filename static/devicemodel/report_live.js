// The device-model page follows reports as their parts arrive: a "report" push (a part stored)
// or a finished command of this station re-reads the reports table and the variable tree, so what
// has arrived shows while parts are still missing. Components the operator opened stay open.
(function () {
  "use strict";
  const heading = document.querySelector("h1[data-identity]");
  if (!heading || !window.CsmsLive) return;
  const LIVE_PARTS = ["dm-summary", "dm-report-table", "dm-tree"];

  function typingIn(element) {
    const active = document.activeElement;
    return element.contains(active) && active.matches("input, select, textarea");
  }

  // What each part showed when last read, without the per-response CSRF masks: a part that did
  // not change is left alone (a click on it is never lost to a replacement).
  function signature(element) {
    return element.outerHTML.replace(/name="csrfmiddlewaretoken" value="[^"]*"/g, "").replace(/ open=""/g, "");
  }
  const shownAs = {};
  LIVE_PARTS.forEach((id) => { const element = document.getElementById(id); if (element) shownAs[id] = signature(element); });

  function reread() {
    return fetch(location.href, {credentials: "same-origin"})
      .then((response) => (response.ok ? response.text() : null))
      .then((html) => {
        if (!html) return;
        const fresh = new DOMParser().parseFromString(html, "text/html");
        const opened = new Set(Array.from(document.querySelectorAll("details.dm-component[open]")).map((d) => d.dataset.component));
        LIVE_PARTS.forEach((id) => {
          const shown = document.getElementById(id);
          const replacement = fresh.getElementById(id);
          if (!shown || !replacement || typingIn(shown)) return;
          const freshSignature = signature(replacement);
          if (freshSignature === shownAs[id]) return;
          shownAs[id] = freshSignature;
          shown.replaceWith(document.importNode(replacement, true));
        });
        document.querySelectorAll("details.dm-component").forEach((d) => { if (opened.has(d.dataset.component)) d.open = true; });
      });
  }
  const refresh = CsmsLive.throttle(reread, 1000);

  CsmsLive.open({
    subscription: () => ({page: "device-model", station: heading.dataset.identity, kinds: ["report", "command"]}),
    onMessage: (message) => {
      if (message.kind === "report" || (message.kind === "command" && message.finished)) refresh();
    },
    onOpen: reread,
  });
})();
