// The first screen for someone not signed in: what Practica is, the communities on this
// server (the directory is public), and a community's front page at /c/<id>, all beside
// the sign-in and sign-up forms, so a visitor sees a community before joining it.

import { get } from "./api.js";
import { $, el } from "./dom.js";
import * as pages from "./pages.js";

const POLICY = {
  open: "Anyone signed in may join",
  approval: "Joining is by request",
  invite: "By invitation only",
};

let shown = 0; // the latest show(), so a slow answer for an older one is dropped

export async function show(community = null) {
  const mine = ++shown;
  pages.showAuth();
  $("landing-hero").hidden = Boolean(community);
  $("public-front").hidden = true;
  const [cards, page] = await Promise.all([
    get("/api/communities").catch(() => []),
    community ? get(`/api/communities/${encodeURIComponent(community)}`).catch(() => null) : null,
  ]);
  if (mine !== shown || $("auth").hidden) return;
  if (community && page) {
    showFront(page);
  } else if (community) {
    $("landing-hero").hidden = false;
    $("auth-context-text").textContent = `There is no community “${community}” here.`;
    $("auth-context").hidden = false;
  } else {
    document.title = "Practica: communities of practice";
  }
  renderList(cards.filter((card) => card.community !== community), Boolean(community && page));
}

function showFront(page) {
  document.title = `${page.name} · Practica`;
  $("public-front-name").textContent = page.name;
  $("public-front-domain").textContent = page.domain;
  $("public-front-purpose").textContent = page.purpose;
  // Sanitized by the server (markdown → nh3); the one place HTML goes in.
  $("public-front-description").innerHTML = page.description_html;
  const rooms = $("public-front-rooms");
  rooms.replaceChildren(...page.rooms.map((room) => {
    const item = el("li", "", `# ${room.name}`);
    if (room.topic) item.append(el("span", "muted", ` · ${room.topic}`));
    return item;
  }));
  $("public-front-rooms-title").hidden = page.rooms.length === 0;
  const count = `${page.member_count} member${page.member_count === 1 ? "" : "s"}`;
  $("public-front-meta").textContent = `${count} · ${POLICY[page.join_policy] || page.join_policy}`;
  $("public-front").hidden = false;
  $("auth-context-text").textContent = page.join_policy === "invite"
    ? `${page.name} admits members by invitation: sign in, then open the invite link you were given.`
    : `To join ${page.name}, sign in or create an account.`;
  $("auth-context").hidden = false;
}

function renderList(cards, besideFront) {
  const list = $("public-list");
  list.replaceChildren(...cards.map((card) => {
    const item = el("li", "card directory-card");
    item.dataset.community = card.community;
    const link = el("a", "", card.name);
    link.href = `/c/${encodeURIComponent(card.community)}`;
    link.dataset.internal = "";
    const title = el("h3");
    title.append(link);
    const count = `${card.member_count} member${card.member_count === 1 ? "" : "s"}`;
    item.append(title, el("p", "", card.domain), el("p", "muted", card.purpose),
      el("p", "muted small", `${count} · ${POLICY[card.join_policy] || card.join_policy}`));
    return item;
  }));
  $("public-title").textContent = besideFront ? "Other communities" : "Find your community";
  // Beside a front page the others come last; on the landing page, before the forms.
  const section = $("public-communities");
  if (besideFront) document.querySelector("#auth .auth-forms").after(section);
  else $("auth-context").before(section);
  $("public-empty").hidden = cards.length > 0;
  $("public-communities").hidden = besideFront && cards.length === 0;
}
