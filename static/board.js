// Small glue around htmx: connection state, live-socket header, form reset, copy link.
(function () {
  "use strict";
  let live = false;

  function setLive(value) {
    live = value;
    const banner = document.getElementById("connection");
    if (banner) banner.hidden = value;
  }

  // The first message on a socket is the whole board: from then on the page is current.
  document.addEventListener("htmx:ws:after:message:incoming", function () {
    if (!live) setLive(true);
  });
  document.addEventListener("htmx:ws:close", function (event) {
    if (event.detail && event.detail.reason === "removed") return;
    setLive(false);
    const banner = document.getElementById("connection");
    // 1008: this browser signed out; the socket will not come back by itself.
    if (banner && event.detail && event.detail.code === 1008) banner.textContent = "Signed out. Reload the page to continue.";
  });
  window.addEventListener("pagehide", function () { live = false; });

  // While the socket is live the server sends our own changes through it, in order with
  // everyone else's; otherwise it puts them in the response.
  document.addEventListener("htmx:config:request", function (event) {
    if (live) event.detail.ctx.request.headers["X-Live-Socket"] = "1";
  });

  document.addEventListener("htmx:after:request", function (event) {
    const form = event.target;
    const status = event.detail.ctx.response && event.detail.ctx.response.status;
    if (form.matches && form.matches("form[data-reset-on-success]") && status < 400) {
      form.reset();
      const first = form.querySelector("input:not([type=hidden]), textarea");
      if (first) first.focus();
    }
    if (form.closest && status < 400) {
      const details = form.closest("details");
      if (details) details.open = false;
    }
  });

  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    const field = document.querySelector(button.dataset.copy);
    if (!field) return;
    field.select();
    if (navigator.clipboard) navigator.clipboard.writeText(field.value).catch(function () {});
    button.textContent = "Copied";
    setTimeout(function () { button.textContent = "Copy link"; }, 1500);
  });

  // The shared timer: the server sends the end time and its own clock; we only count down.
  function tickTimers() {
    document.querySelectorAll(".timer[data-state=running]").forEach(function (timer) {
      if (!timer.dataset.offset) timer.dataset.offset = String(Number(timer.dataset.serverNow) - Date.now());
      const remaining = (Number(timer.dataset.endsAt) - (Date.now() + Number(timer.dataset.offset))) / 1000;
      const clock = timer.querySelector(".clock");
      const whole = Math.max(0, Math.ceil(remaining));
      const text = Math.floor(whole / 60) + ":" + String(whole % 60).padStart(2, "0");
      if (clock && clock.textContent !== text) clock.textContent = text;
      timer.classList.toggle("timer-low", whole <= 30);
      timer.classList.toggle("timer-expired", whole === 0);
    });
  }
  setInterval(tickTimers, 250);
  document.addEventListener("DOMContentLoaded", tickTimers);

  // Keep sockets open while the tab is in the background: presence means "has the board open".
  htmx.config.ws = Object.assign({}, htmx.config.ws, { pauseOnBackground: false });
})();
