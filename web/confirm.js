// Asking before something that cannot be undone: a modal <dialog> (focus stays inside,
// Escape cancels, the safe choice has the focus), not window.confirm.

import { el } from "./dom.js";

let dialog = null;

function build() {
  const node = el("dialog", "confirm-dialog");
  node.setAttribute("aria-labelledby", "confirm-title");
  node.setAttribute("aria-describedby", "confirm-text");
  const form = el("form", "confirm-form");
  form.method = "dialog";
  const title = el("h2", "", "");
  title.id = "confirm-title";
  const text = el("p", "", "");
  text.id = "confirm-text";
  const buttons = el("div", "row-buttons");
  const cancel = el("button", "ghost", "Cancel");
  cancel.value = "cancel";
  cancel.className = "ghost confirm-cancel";
  const ok = el("button", "primary danger-button confirm-ok", "OK");
  ok.value = "ok";
  buttons.append(cancel, ok);
  form.append(title, text, buttons);
  node.append(form);
  document.body.append(node);
  return node;
}

// Resolves true when confirmed, false when cancelled (button, Escape).
export function confirmAction({ title, text, confirm = "OK" }) {
  dialog = dialog || build();
  if (dialog.open) dialog.close("cancel");
  dialog.querySelector("#confirm-title").textContent = title;
  dialog.querySelector("#confirm-text").textContent = text;
  dialog.querySelector(".confirm-ok").textContent = confirm;
  dialog.returnValue = "";
  const opener = document.activeElement;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      if (opener && opener.isConnected) opener.focus();
      resolve(dialog.returnValue === "ok");
    }, { once: true });
    dialog.showModal();
    dialog.querySelector(".confirm-cancel").focus();
  });
}
