// Hosts (and conveners, owners) moderate guests from the room's "Here now" list: time one
// out for some minutes, or remove one (their session ends). Members are moderated from
// Members instead; the server checks every action again.

import { post } from "./api.js";
import { button, el, field, input, onSubmit, toast } from "./dom.js";
import { confirmAction } from "./confirm.js";

export const isGuest = (id) => id.startsWith("g-");

export function guestControls(communityId, person) {
  const box = el("details", "guest-controls");
  box.append(el("summary", "", "Moderate"));
  box.querySelector("summary").setAttribute("aria-label", `Moderate guest ${person.name}`);
  const form = el("form", "inline-form");
  form.setAttribute("aria-label", `Time out or remove ${person.name}`);
  const minutes = input("number", { min: 1, max: 10080, value: 10, required: true });
  const reason = input("text", { maxlength: 300 });
  const error = el("p", "form-error");
  error.setAttribute("role", "alert");
  error.hidden = true;
  const path = (action) => `/api/communities/${encodeURIComponent(communityId)}/members/`
    + `${encodeURIComponent(person.id)}/${action}`;
  const timeOut = el("button", "ghost small", "Time out");
  timeOut.type = "submit";
  onSubmit(form, error, async () => {
    const count = Number(minutes.value);
    if (!Number.isInteger(count) || count < 1) throw new Error("Minutes: a whole number, 1 or more.");
    await post(path("timeout"), { minutes: count, reason: reason.value.trim() });
    toast(`${person.name} is timed out for ${count} min`);
  });
  const remove = button("Remove", "ghost small danger", async () => {
    const sure = await confirmAction({
      title: `Remove ${person.name}?`, confirm: `Remove ${person.name}`,
      text: `${person.name} leaves at once and their guest session ends.`,
    });
    if (!sure) return;
    remove.disabled = true;
    try {
      await post(path("remove"), { reason: reason.value.trim() });
      toast(`${person.name} was removed`);
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
      remove.disabled = false;
    }
  });
  form.append(field("Minutes", minutes, "field narrow"), field("Reason", reason), timeOut, remove);
  box.append(form, error);
  return box;
}
