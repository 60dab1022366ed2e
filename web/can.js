// What this session may do: ready.session.actions, decided by the server's allowed()
// over its grants table (server/domain/policy.py). The client keeps no copy of that
// table; it only hides what is not allowed, and the server checks every command anyway.

let actions = new Set();
let grantable = [];

export function setSession(session) {
  actions = new Set((session && session.actions) || []);
  grantable = (session && session.grantable_roles) || [];
}

export const can = (action) => actions.has(action);
export const canAny = (...wanted) => wanted.some((action) => actions.has(action));
export const grantableRoles = () => grantable; // the roles set_role may give

// What Manage is for: any of these shows it.
export const MANAGING = ["create_guest_link", "invite_members", "approve_join", "lift_removal",
  "create_room", "edit_community", "view_audit", "view_pairings", "schedule_series"];
