// Ask before what cannot be undone (delete a topic, merge, finish the meeting, leave): forms marked
// data-confirm open a <dialog> first, and go (with confirmed=1) only when the person says so. Without
// JavaScript the server asks with a plain page instead, so both paths end in the same confirmed POST.
(function () {
  "use strict";
  let dialog = null;
  // The form whose next submit is the confirmed one: let it through to htmx (or the browser) once.
  let passing = null;

  function build() {
    dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    dialog.setAttribute("aria-labelledby", "confirm-dialog-heading");
    dialog.setAttribute("aria-describedby", "confirm-dialog-detail");
    // method=dialog: each button closes it with its value; Esc closes it with none, which cancels too.
    dialog.innerHTML = '<form method="dialog" class="confirm-panel"><h2 id="confirm-dialog-heading"></h2>' +
      '<p id="confirm-dialog-detail"></p><div class="confirm-actions">' +
      '<button type="submit" value="cancel" class="btn" autofocus>Cancel</button>' +
      '<button type="submit" value="ok" class="btn btn-danger-solid" id="confirm-dialog-ok"></button></div></form>';
    // The page's own word for Cancel (its #page-text data, leancoffee/i18n.py).
    const data = document.getElementById("page-text");
    try {
      const cancel = data && JSON.parse(data.textContent).cancel;
      if (cancel) dialog.querySelector('button[value="cancel"]').textContent = cancel;
    } catch (error) { /* the English word stays */ }
    document.body.appendChild(dialog);
  }

  // "{source}" in a question: the option chosen in the form's select of that name (the merge form).
  function fill(text, form) {
    return (text || "").replace(/\{(\w+)\}/g, function (whole, name) {
      const field = form.elements[name];
      const option = field && field.selectedOptions && field.selectedOptions[0];
      return option ? option.textContent : whole;
    });
  }

  // The button's own words ("Delete", "Finish meeting"), without the visually hidden topic name.
  function buttonWords(submitter) {
    const first = submitter && submitter.firstChild;
    return (first && first.nodeType === Node.TEXT_NODE ? first.textContent : "OK").trim() || "OK";
  }

  function ask(form, submitter) {
    if (!dialog) build();
    const stale = form.querySelector("input[name=confirmed]");
    if (stale) stale.remove();
    dialog.querySelector("#confirm-dialog-heading").textContent = fill(form.dataset.confirm, form);
    dialog.querySelector("#confirm-dialog-detail").textContent = fill(form.dataset.confirmDetail, form);
    dialog.querySelector("#confirm-dialog-ok").textContent = buttonWords(submitter);
    dialog.returnValue = "";
    dialog.onclose = function () {
      if (dialog.returnValue !== "ok") {
        if (submitter && submitter.isConnected) submitter.focus();
        return;
      }
      const flag = document.createElement("input");
      flag.type = "hidden";
      flag.name = "confirmed";
      flag.value = "1";
      form.appendChild(flag);
      passing = form;
      form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
    };
    dialog.showModal();
  }

  // A question the server asked back in the message area (a tie to settle, or a confirmation when the
  // dialog could not run): the keyboard goes to it, on its first choice or on Cancel, once per question.
  const asked = new WeakSet();
  document.addEventListener("htmx:after:swap", function () {
    const panel = document.querySelector("#flash .tie-choice, #flash .confirm-panel");
    if (!panel || asked.has(panel)) return;
    asked.add(panel);
    const target = panel.querySelector(".tie-choice button, .confirm-panel a.btn");
    if (target) target.focus();
  });

  // Capture, at the document: before htmx's own submit listener on the form sees the event.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
    if (passing === form) {
      passing = null;
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
    ask(form, event.submitter);
  }, true);
})();
