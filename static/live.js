// The dashboard's push socket (/ws/dashboard/), shared by the pages' scripts: it tells the server
// what the page shows (the server forwards only matching events), re-reads the page when the socket
// (re)opens (pushes sent meanwhile never arrive), and reconnects with backoff.
// Every message is also dispatched as a "csms:live" DOM event for other scripts of the page.
(function () {
  "use strict";
  const liveState = document.getElementById("live-state");

  function setLive(text, state) {
    if (!liveState) return;
    liveState.hidden = false;
    liveState.textContent = text;
    liveState.dataset.state = state;
  }

  // options: subscription() -> the subscribe message's body (or null: every event),
  // onMessage(message), onOpen() -> a promise settled once the page is re-read.
  function open(options) {
    let retryDelay = 1000;
    let socket = null;
    let replay = null;  // messages received while the page is re-read

    function subscribe() {
      const body = options.subscription ? options.subscription() : null;
      if (body && socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({subscribe: body}));
    }
    function deliver(message) {
      options.onMessage(message);
      document.dispatchEvent(new CustomEvent("csms:live", {detail: message}));
    }
    function connect() {
      const scheme = location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + location.host + "/ws/dashboard/");
      socket.onopen = () => {
        retryDelay = 1000;
        subscribe();
        replay = [];
        Promise.resolve(options.onOpen ? options.onOpen() : null).catch(() => {}).finally(() => {
          const missed = replay;
          replay = null;
          missed.forEach(deliver);
          setLive("live", "open");
          // Scripts whose parts follow the pushes re-read them: events sent meanwhile never came.
          document.dispatchEvent(new CustomEvent("csms:live-open"));
        });
      };
      socket.onmessage = (event) => {
        const message = JSON.parse(event.data);
        if (message.kind === "subscribed") return;
        if (replay) replay.push(message);
        else deliver(message);
      };
      socket.onclose = () => {
        setLive("reconnecting…", "closed");
        setTimeout(connect, retryDelay);
        retryDelay = Math.min(retryDelay * 2, 30000);
      };
    }
    connect();
    return {resubscribe: subscribe};
  }

  // Run `work` at most once per `ms`, the last call of a burst included (trailing).
  function throttle(work, ms) {
    let timer = null;
    let again = false;
    function run() {
      again = false;
      Promise.resolve(work()).catch(() => {}).finally(() => {
        timer = setTimeout(() => { timer = null; if (again) schedule(); }, ms);
      });
    }
    function schedule() {
      if (timer) { again = true; return; }
      timer = -1;
      run();
    }
    return schedule;
  }

  window.CsmsLive = {open: open, throttle: throttle};
})();
