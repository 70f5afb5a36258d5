// Small glue around htmx: connection state, live-socket header, focus after swaps, highlights and
// announcements of live changes, form reset, copy link, the timer countdown.
(function () {
  "use strict";
  let live = false;
  let lostOnce = false;
  let leaving = false;
  // The first message after a socket (re)opens is the whole board: it repairs, it is not news.
  let resync = true;

  // ---- Words: the page's own language, from its #page-text data (leancoffee/i18n.py, script_text) ----
  let words = {};
  try {
    const data = document.getElementById("page-text");
    words = data ? JSON.parse(data.textContent) : {};
  } catch (error) {
    words = {};
  }
  function say(key, english, fill) {
    const text = words[key] || english;
    return fill ? text.replace(/\{(\w+)\}/g, function (whole, name) { return name in fill ? fill[name] : whole; }) : text;
  }

  // ---- Announcements: one polite live region, only for what matters (never every second) ----
  let announceTimer = null;
  let pending = [];
  function announce(text) {
    const region = document.getElementById("announcer");
    if (!region || !text) return;
    // Clear first so the same sentence twice in a row is still read out.
    region.textContent = "";
    // Sentences within 100 ms are read together (the countdown's "Time is up." and the server's
    // thumbs prompt often arrive that close): none replaces another.
    if (!pending.includes(text)) pending.push(text);
    clearTimeout(announceTimer);
    announceTimer = setTimeout(function () {
      region.textContent = pending.join(" ");
      pending = [];
    }, 100);
  }

  // ---- Connection state ----
  function setBanner(text) {
    const banner = document.getElementById("connection");
    if (!banner) return;
    if (text) banner.textContent = text;
    banner.hidden = !text;
  }

  function setLive(value) {
    const was = live;
    live = value;
    // Exposed for tests and for anyone debugging a board: is this page receiving live updates?
    document.documentElement.dataset.live = String(value);
    if (value) {
      setBanner(null);
      if (!was && lostOnce) announce(say("reconnected", "Reconnected. The board is up to date."));
    }
  }

  function connectionLost(willRetry, code) {
    const was = live;
    live = false;
    document.documentElement.dataset.live = "false";
    resync = true;
    lostOnce = true;
    // 1008: this person signed out or left the meeting (in another tab or on another device). Reload,
    // so the server shows what they may now see (the rejoin form); once only, should it happen again.
    if (code === 1008 && !sessionStorage.getItem("lc-reloaded-for-1008")) {
      sessionStorage.setItem("lc-reloaded-for-1008", "1");
      window.location.reload();
      return;
    }
    // Nothing is disabled: every action is a form that still works over HTTP while the socket is down.
    const final = code === 1008 ? say("signedOut", "Signed out. Reload the page to continue.") : say("stopped", "Live updates stopped. Reload the page to catch up.");
    setBanner(willRetry ? say("reconnecting", "Reconnecting…") : final);
    if (was) announce(willRetry ? say("connectionLost", "Connection lost. Reconnecting…") : final);
  }

  // Close codes after which hx-ws tries again (its defaults); any other close is final.
  const RETRY_CODES = [1001, 1005, 1006, 1011, 1012, 1013, 1014];
  document.addEventListener("htmx:ws:close", function (event) {
    const detail = event.detail || {};
    if (detail.reason === "removed" || leaving) return;
    connectionLost(detail.reason !== "cancelled" && (detail.code == null || RETRY_CODES.includes(detail.code)), detail.code);
  });
  document.addEventListener("htmx:ws:error", function (event) {
    const socket = event.detail && event.detail.connection && event.detail.connection.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) connectionLost(true);
  });
  document.addEventListener("htmx:ws:after:connection", function () {
    resync = true;
    sessionStorage.removeItem("lc-reloaded-for-1008");
  });
  document.addEventListener("htmx:ws:after:message:incoming", function () {
    resync = false;
    if (!live) setLive(true);
  });
  window.addEventListener("pagehide", function () { leaving = true; live = false; });
  window.addEventListener("pageshow", function () { leaving = false; });

  // While the socket is live the server sends our own changes through it, in order with
  // everyone else's; otherwise it puts them in the response.
  document.addEventListener("htmx:config:request", function (event) {
    if (live) event.detail.ctx.request.headers["X-Live-Socket"] = "1";
  });

  // ---- Before and after every swap: keep the keyboard focus, notice what is new ----
  // Topic cards and the parts of them that change live (other things styled as .card are forms).
  const CARD = ".cards > li.card";
  const WATCHED = CARD + ", .card-body, .votes, .notes-list";
  let before = null;

  function snapshot() {
    const active = document.activeElement;
    const ids = [];
    for (let node = active; node && node !== document.body; node = node.parentElement) {
      if (node.id) ids.push(node.id);
    }
    const status = document.getElementById("meeting-status");
    return {
      seen: new Set(document.querySelectorAll(WATCHED)),
      texts: cardTexts(),
      topics: new Set(Array.from(document.querySelectorAll(CARD), function (li) { return li.id; })),
      phase: status ? status.dataset.phase : null,
      thumbsOpen: isOpen("thumbs"),
      active: active,
      focusIds: ids,
    };
  }

  // What each card says: a card re-rendered with the same words (a whole-board resend at a phase
  // change, say) has not changed, and must not flash.
  function cardTexts() {
    const texts = new Map();
    document.querySelectorAll(CARD).forEach(function (card) {
      const parts = card.querySelectorAll(".card-body, .votes, .notes-list");
      texts.set(card.id, Array.from(parts, function (el) { return el.textContent; }).join("\u0000"));
    });
    return texts;
  }

  function isOpen(id) {
    const el = document.getElementById(id);
    return Boolean(el && !el.hidden);
  }

  function visible(el) {
    return el.getClientRects().length > 0;
  }

  // A swap may remove the focused control (e.g. a moved card): put focus on the nearest thing
  // that is still there, so a keyboard user never lands back at the top of the page.
  function restoreFocus(prev) {
    const active = document.activeElement;
    if (active && active !== document.body && active.isConnected && visible(active)) return;
    for (const id of prev.focusIds) {
      const el = document.getElementById(id);
      // The page itself is no place to land: its first control may be a screen away (the thumbs sheet
      // closing must not send a phone back to the top).
      if (el && el.matches("main, body")) return;
      if (!el || !visible(el)) continue;
      const card = el.closest(CARD);
      let target = card || el.querySelector("button, a[href], input:not([type=hidden]), select, textarea, summary");
      if (!target || !visible(target)) target = el;
      if (!target.matches("button, a[href], input, select, textarea, summary")) target.tabIndex = -1;
      // Focus follows a moved card to its new column; anything else takes focus where it is, without
      // scrolling (a swapped timer must not pull a phone back up to it).
      target.focus({ preventScroll: !card });
      return;
    }
  }

  function highlight(card) {
    card.classList.remove("is-fresh");
    void card.offsetWidth; // restart the animation if it is already running
    card.classList.add("is-fresh");
  }
  document.addEventListener("animationend", function (event) {
    if (event.animationName === "card-fresh") event.target.classList.remove("is-fresh");
  });

  document.addEventListener("htmx:before:swap", function () {
    before = snapshot();
  });

  // A pushed #share names its links by path unless PUBLIC_URL is set (leancoffee/web/routing.py, fragment_url):
  // this page's own address completes them, as the server's answer to this page's request would have.
  function completeLinks() {
    document.querySelectorAll("textarea.share-link").forEach(function (field) {
      if (field.value.charAt(0) === "/") field.value = location.origin + field.value;
    });
  }

  document.addEventListener("htmx:after:swap", function () {
    completeLinks();
    const prev = before;
    before = null;
    if (!prev) return;
    restoreFocus(prev);
    followMeeting(prev);
    if (resync && !live && document.getElementById("meeting")) {
      // A full resync re-renders everything: announce nothing but phase changes.
      announcePhase(prev);
      return;
    }
    const changed = new Set();
    const added = [];
    const texts = cardTexts();
    document.querySelectorAll(WATCHED).forEach(function (el) {
      if (prev.seen.has(el)) return;
      const card = el.closest(CARD);
      if (!card) return;
      if (el === card && !prev.topics.has(card.id)) added.push(card);
      if (!prev.topics.has(card.id) || prev.texts.get(card.id) !== texts.get(card.id)) changed.add(card);
    });
    changed.forEach(highlight);
    const messages = added.map(function (card) {
      const title = card.querySelector(".card-title");
      return say("newTopic", "New topic: {title}", {title: title ? title.textContent : ""});
    });
    const phase = phaseMessage(prev);
    if (phase) messages.push(phase);
    if (!prev.thumbsOpen && isOpen("thumbs")) messages.push(timeUpMessage());
    if (messages.length) announce(messages.join(". "));
  });

  function phaseMessage(prev) {
    const status = document.getElementById("meeting-status");
    if (!status || !prev.phase || status.dataset.phase === prev.phase) return null;
    const current = status.querySelector(".phase.current");
    const guidance = status.querySelector(".guidance");
    return say("phase", "Phase: {phase}", {phase: current ? current.textContent.replace(/^\s*\d+\.\s*/, "").replace(/\s*◂\s*$/, "") : status.dataset.phase}) +
      (guidance ? ". " + guidance.textContent.trim().replace(/\s+/g, " ") : "");
  }

  function announcePhase(prev) {
    const message = phaseMessage(prev);
    if (message) announce(message);
  }

  let timeUpSaidFor = null;
  function timeUpMessage() {
    const timer = document.getElementById("timer");
    const key = timer ? timer.dataset.endsAt : null;
    const said = key !== null && timeUpSaidFor === key;
    timeUpSaidFor = key;
    return (said ? "" : say("timeUp", "Time is up.") + " ") + say("thumbsVote", "Thumbs vote: continue, neutral or move on?");
  }

  // ---- Following the meeting: the phase, time up, the card just tapped ----
  function currentPhase() {
    const status = document.getElementById("meeting-status");
    return status ? status.dataset.phase : null;
  }

  function followMeeting(prev) {
    const phase = currentPhase();
    if (prev.phase && phase !== prev.phase) {
      clearMessages(); // a refusal from the last phase ("all your votes used") no longer holds
      foldProposeForm(phase);
    }
    const open = isOpen("thumbs");
    if (open && !prev.thumbsOpen) timeIsUp();
    showTimeUpInTitle(timeUpShown());
    showChime();
    keepTappedCardInView();
  }

  // Collecting: the propose form is open; after that it folds to one line (never over words being typed).
  function foldProposeForm(phase) {
    const propose = document.getElementById("propose");
    const title = document.getElementById("topic-title");
    if (!propose || (title && title.value.trim())) return;
    propose.open = phase === "collecting";
  }

  // Time is up on screen: a topic's thumbs prompt, or the collecting or voting timebox run out.
  function timeUpShown() {
    return isOpen("thumbs") || Boolean(document.querySelector("#timer[data-phase-timer].timer-expired"));
  }

  const pageTitle = document.title;
  function showTimeUpInTitle(open) {
    const name = document.querySelector(".meeting-title");
    const wanted = open && name ? say("timeUpTitle", "Time is up · {title}", {title: name.textContent.trim()}) : pageTitle;
    if (document.title !== wanted) document.title = wanted;
  }

  // Time is up: the prompt is on screen (a sheet on a phone, a banner on a laptop); also buzz, and
  // chime for those who switched it on.
  function timeIsUp() {
    if (navigator.vibrate) navigator.vibrate([200, 100, 200]);
    if (chimeOn()) chime();
  }

  // The chime: off until a person switches it on (the press is the gesture browsers need for sound).
  const CHIME_KEY = "lc-chime";
  let audio = null;
  function chimeOn() {
    try { return localStorage.getItem(CHIME_KEY) === "on"; } catch (e) { return false; }
  }
  function showChime() {
    document.querySelectorAll("[data-chime]").forEach(function (button) {
      button.setAttribute("aria-pressed", String(chimeOn()));
    });
  }
  function chime() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    audio = audio || new Context();
    if (audio.resume) audio.resume();
    [0, 0.25].forEach(function (delay, i) {
      const tone = audio.createOscillator();
      const volume = audio.createGain();
      tone.frequency.value = i ? 660 : 880;
      volume.gain.setValueAtTime(0.2, audio.currentTime + delay);
      volume.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + delay + 0.6);
      tone.connect(volume).connect(audio.destination);
      tone.start(audio.currentTime + delay);
      tone.stop(audio.currentTime + delay + 0.6);
    });
  }
  function toggleChime() {
    const on = !chimeOn();
    try { localStorage.setItem(CHIME_KEY, on ? "on" : "off"); } catch (e) { /* private mode: this page only */ }
    showChime();
    if (on) chime(); // a sample, and it unlocks sound for this page
    announce(on ? say("chimeOn", "Chime on: you will hear when time is up.") : say("chimeOff", "Chime off."));
  }
  document.addEventListener("DOMContentLoaded", function () {
    showChime();
    showTimeUpInTitle(timeUpShown());
  });

  // Refusals ("You have used all 3 of your votes") can be dismissed, and go on the next success.
  function clearMessages() {
    const area = document.getElementById("flash");
    if (area) area.replaceChildren();
  }

  // Live re-sorting while voting: the card a person just tapped stays where it was on their screen
  // until their next tap, or for 10 seconds.
  let tapped = null;
  document.addEventListener("pointerdown", function (event) {
    const card = event.target.closest && event.target.closest(CARD);
    tapped = card ? { id: card.id, top: card.getBoundingClientRect().top, until: Date.now() + 10000 } : null;
  }, true);
  document.addEventListener("wheel", function () { tapped = null; }, { passive: true });
  function keepTappedCardInView() {
    if (!tapped || Date.now() > tapped.until) { tapped = null; return; }
    const card = document.getElementById(tapped.id);
    if (!card) return;
    const shift = card.getBoundingClientRect().top - tapped.top;
    if (Math.abs(shift) > 1) window.scrollBy({ top: shift, behavior: "instant" });
  }

  // An action whose request never reached the server is not sent again by itself (it might add a
  // topic twice): the person is told, beside the button, and taps again when they choose.
  function markNotSent(form) {
    let note = form.querySelector(".not-sent");
    if (!note) {
      note = document.createElement("span");
      note.className = "not-sent";
      note.setAttribute("role", "alert");
      form.appendChild(note);
    }
    note.textContent = say("notSent", "Not sent — tap again");
  }
  document.addEventListener("htmx:error", function (event) {
    const ctx = event.detail && event.detail.ctx;
    const form = event.target && event.target.closest && event.target.closest("form");
    if (ctx && !ctx.response && form) markNotSent(form);
  });
  document.addEventListener("htmx:before:request", function (event) {
    const form = event.target && event.target.closest && event.target.closest("form");
    const note = form && form.querySelector(".not-sent");
    if (note) note.remove();
  });

  // ---- Forms ----
  document.addEventListener("htmx:after:request", function (event) {
    const form = event.target;
    const status = event.detail.ctx.response && event.detail.ctx.response.status;
    if (form.matches && form.matches("form[data-reset-on-success]") && status < 400) {
      form.reset();
      const first = form.querySelector("input:not([type=hidden]), textarea");
      if (first) first.focus();
    }
    if (status < 400 && event.detail.ctx.response) clearMessages();
    if (form.closest && status < 400 && !form.matches("[data-keep-open]")) {
      // Close every fold around the form (an edit form inside a card's menu closes the menu too).
      let details = null;
      for (let fold = form.closest("details"); fold; fold = fold.parentElement.closest("details")) {
        fold.open = false;
        details = fold;
      }
      if (details) {
        // The form the focus was in has just closed: give focus back to its summary.
        const summary = details.querySelector("summary");
        if (summary && (!document.activeElement || document.activeElement === document.body || !visible(document.activeElement))) {
          summary.focus();
        }
      }
    }
  });

  // ---- Copy link: the Clipboard API exists only on HTTPS or localhost; a LAN address over plain HTTP
  // has none, so copy the selected text the old way, and say "Copied" only when something was copied ----
  function copyField(button, field) {
    field.focus();
    field.select();
    const done = function (copied) {
      const label = button.dataset.label || button.textContent;
      button.dataset.label = label;
      button.textContent = copied ? say("copied", "Copied") : say("selected", "Selected: copy it");
      announce(copied ? say("linkCopied", "Link copied.") : say("linkSelected", "The link is selected: copy it with your device's copy command."));
      setTimeout(function () { button.textContent = label; }, 2500);
    };
    const legacy = function () {
      try { return document.execCommand("copy"); } catch (error) { return false; }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () { done(true); }, function () { done(legacy()); });
    } else {
      done(legacy());
    }
  }

  document.addEventListener("click", function (event) {
    const copy = event.target.closest && event.target.closest("[data-copy]");
    if (copy) {
      const field = document.querySelector(copy.dataset.copy);
      if (field) copyField(copy, field);
      return;
    }
    const dismiss = event.target.closest && event.target.closest("[data-dismiss]");
    if (dismiss) {
      dismiss.closest(".flash").remove();
      return;
    }
    if (event.target.closest && event.target.closest("[data-chime]")) {
      toggleChime();
      return;
    }
    // The bar's shortcuts ("Propose a topic", "Add a takeaway"): open what folds the field, scroll to it, focus it.
    const jump = event.target.closest && event.target.closest("[data-focus]");
    if (jump) {
      const field = document.querySelector(jump.dataset.focus);
      if (!field) return;
      event.preventDefault();
      for (let fold = field.closest("details"); fold; fold = fold.parentElement.closest("details")) fold.open = true;
      if (field.matches(CARD)) field.tabIndex = -1;
      field.scrollIntoView({ block: field.matches(CARD) ? "start" : "center" });
      field.focus({ preventScroll: true });
    }
  });

  // ---- The shared timer: the server sends the end time and its own clock; we only count down ----
  const lastWhole = new Map();
  function tickTimers() {
    document.querySelectorAll(".timer[data-state=running]").forEach(function (timer) {
      if (!timer.dataset.offset) timer.dataset.offset = String(Number(timer.dataset.serverNow) - Date.now());
      const remaining = (Number(timer.dataset.endsAt) - (Date.now() + Number(timer.dataset.offset))) / 1000;
      const clock = timer.querySelector(".clock");
      const whole = Math.max(0, Math.ceil(remaining));
      const text = Math.floor(whole / 60) + ":" + String(whole % 60).padStart(2, "0");
      if (clock && clock.textContent !== text) clock.textContent = text;
      timer.classList.toggle("timer-low", whole <= 60 && whole > 0);
      const bar = timer.querySelector(".timebox-progress");
      if (bar) bar.value = Math.max(0, Number(bar.max) - Math.max(0, remaining));
      timer.classList.toggle("timer-expired", whole === 0);
      // Announce only the moments that matter: one minute left, and time up (once per timebox).
      const key = timer.dataset.endsAt;
      const previous = lastWhole.get(key);
      lastWhole.set(key, whole);
      if (previous === undefined) return;
      if (previous > 60 && whole <= 60 && whole > 0) announce(say("oneMinute", "1 minute left."));
      if (previous > 0 && whole === 0 && timeUpSaidFor !== key) {
        timeUpSaidFor = key;
        announce(say("timeUp", "Time is up."));
        // A topic's time-up buzzes with its thumbs prompt; collecting's or voting's has no prompt, so it buzzes here.
        if (timer.hasAttribute("data-phase-timer")) timeIsUp();
      }
    });
    tickPace();
  }

  // The planned length (facilitators): minutes left and topics that still fit, counted down between pushes.
  function tickPace() {
    const pace = document.querySelector("#pace[data-ends-at]:not([data-ends-at=''])");
    if (!pace) return;
    if (!pace.dataset.offset) pace.dataset.offset = String(Number(pace.dataset.serverNow) - Date.now());
    const left = (Number(pace.dataset.endsAt) - (Date.now() + Number(pace.dataset.offset))) / 1000;
    const minutes = String(Math.ceil(Math.abs(left) / 60));
    const fits = String(Math.max(0, Math.floor(left / Number(pace.dataset.perTopic))));
    const shownMinutes = pace.querySelector(".pace-minutes");
    const shownFits = pace.querySelector(".pace-fits");
    if (shownMinutes && shownMinutes.textContent !== minutes) shownMinutes.textContent = minutes;
    if (shownFits && shownFits.textContent !== fits) shownFits.textContent = fits;
    pace.dataset.over = String(left < 0);
    pace.querySelectorAll(".pace-left, .pace-over").forEach(function (word) {
      const hide = word.classList.contains("pace-over") ? left >= 0 : left < 0;
      if (word.hidden !== hide) word.hidden = hide;
    });
  }
  setInterval(tickTimers, 250);
  document.addEventListener("DOMContentLoaded", tickTimers);

  // Keep sockets open while the tab is in the background: presence means "has the board open".
  // Cap the backoff at 10 s so a board comes back soon after a restart, not a minute later.
  htmx.config.ws = Object.assign({}, htmx.config.ws, { pauseOnBackground: false, reconnectMaxDelay: 10000 });
})();
