// The web chat. Everything the bot says is inserted as text nodes, never as HTML: the small
// markdown reader below builds elements itself (bold, italics, code, links to http(s) and
// mailto only), so whatever a reply quotes stays text.
// Outside demo mode people sign in (local account or their organisation's sign-in) and the
// server decides who they are; in demo mode the "You are" box names a made-up person.
"use strict";
const $ = (id) => document.getElementById(id);
const log = $("log");
const userInput = $("user");
userInput.value = localStorage.getItem("electionbot.user") || "guest";
userInput.addEventListener("change", () => {
  localStorage.setItem("electionbot.user", userInput.value);
  readInboxOf("demo:" + userInput.value);
});
let mode = "";
let csrf = "";
let polling = false;

function show(id, on) { $(id).hidden = !on; }

function showChat() {
  show("signin", false); show("log", true); show("composer", true);
  if (!polling) { polling = true; pollInbox(); }
}

function showSignIn(session) {
  csrf = session.csrf || "";
  show("account", false); show("log", false); show("composer", false); show("signin", true);
  log.replaceChildren();
  const providers = $("providers");
  providers.replaceChildren();
  for (const p of session.providers || []) {
    const a = document.createElement("a");
    a.href = p.url; a.className = "provider"; a.textContent = "Sign in with " + p.label;
    providers.appendChild(a);
  }
  show("signin-form", session.local_accounts !== false);
  $("signin-user").focus();
}

function showSignedIn(session) {
  csrf = session.csrf;
  readInboxOf(session.identity);
  $("who").textContent = "Signed in as " + (session.display_name || session.identity);
  show("account", true);
  showChat();
}

async function loadSession() {
  const res = await fetch("/webchat/session", {credentials: "same-origin"});
  const session = await res.json();
  mode = session.mode;
  if (mode === "demo") { readInboxOf("demo:" + userInput.value); show("picker", true); showChat(); return; }
  if (session.signed_in) showSignedIn(session); else showSignIn(session);
}

$("signin-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("signin-error").textContent = "";
  const res = await fetch("/webchat/signin", {
    method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
    body: JSON.stringify({user: $("signin-user").value, password: $("signin-password").value,
                          code: $("signin-code").value}),
  });
  const data = await res.json();
  if (res.ok) { $("signin-password").value = ""; $("signin-code").value = ""; showSignedIn(data); return; }
  if (data.code_needed) { show("signin-code-label", true); $("signin-code").focus(); }
  else $("signin-password").value = "";
  $("signin-error").textContent = data.error || "Sign-in failed.";
  if (res.status === 403) loadSession();  // a stale form token: fetch a fresh one
});

$("signout").addEventListener("click", async () => {
  await fetch("/webchat/signout", {method: "POST", credentials: "same-origin",
                                   headers: {"X-CSRF-Token": csrf}});
  polling = false;
  loadSession();
});

// Demo mode (serve --demo): names are self-declared, so say so on every page view.
async function showMode() {
  try {
    const res = await fetch("/healthz");
    const health = await res.json();
    document.getElementById("demo-banner").hidden = health.mode !== "demo";
    document.body.dataset.mode = health.mode;
  } catch (err) { /* the banner stays as served; the server may be restarting */ }
}
showMode();

function bubble(cls) {
  const div = document.createElement("div");
  div.className = "msg " + cls;
  log.appendChild(div);
  return div;
}

function textBlock(parent, text, cls) {
  const p = document.createElement("div");
  if (cls) p.className = cls;
  p.textContent = text;
  parent.appendChild(p);
}

// Inline markdown: **bold**, _italic_ or *italic*, `code`, [label](url), bare URLs, and {@N}
// (the reply's N-th mention, shown by name).
const INLINE = /\*\*(\S(?:[^*\n]*?\S)?)\*\*|`([^`\n]+)`|\[([^\]\n]+)\]\(([^()\s]+)\)|(?<![\w*])[_*](\S(?:[^_*\n]*?\S)?)[_*](?![\w*])|\{@(\d{1,3})\}|(https?:\/\/[^\s<>()'"\uE021-\uE07E]*[^\s<>()'".,;:!?\uE021-\uE07E])/g;

function safeUrl(url) {
  try {
    const parsed = new URL(url);
    return ["http:", "https:", "mailto:"].includes(parsed.protocol) ? parsed.href : null;
  } catch (err) { return null; }
}

function link(label, url) {
  const a = document.createElement("a");
  a.href = url; a.textContent = label;
  a.target = "_blank"; a.rel = "noopener noreferrer";
  return a;
}

// Backslash escapes (what people typed reaches the page escaped): each escaped character is
// hidden as one private-use character while the markup is read, so no pattern above can use
// it, and is shown as itself in the text nodes.
const shield = (text) => text.replace(/[\uE021-\uE07E]/g, "").replace(
  /\\([!-\/:-@[-`{-~])/g, (_, c) => String.fromCharCode(0xE000 + c.charCodeAt(0)));
const unshield = (text) => text.replace(
  /[\uE021-\uE07E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xE000));
const textNode = (text) => document.createTextNode(unshield(text));

function inline(parent, text, mentions) { readInline(parent, shield(text), mentions); }

function readInline(parent, text, mentions) {
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    parent.appendChild(textNode(text.slice(last, m.index)));
    last = m.index + m[0].length;
    let node;
    if (m[1] !== undefined) { node = document.createElement("strong"); readInline(node, m[1], mentions); }
    else if (m[2] !== undefined) { node = document.createElement("code"); node.textContent = unshield(m[2]); }
    else if (m[3] !== undefined) {
      const url = safeUrl(unshield(m[4]));
      node = url ? link(unshield(m[3]), url) : textNode(m[0]);
    } else if (m[5] !== undefined) { node = document.createElement("em"); readInline(node, m[5], mentions); }
    else if (m[6] !== undefined) {
      const who = (mentions || [])[Number(m[6])];
      node = document.createElement("span");
      node.className = "mention";
      node.textContent = who ? "@" + (who.name || who.identity.split(":").pop()) : unshield(m[0]);
    } else {
      const url = safeUrl(m[7]);
      node = url ? link(m[7], url) : textNode(m[7]);
    }
    parent.appendChild(node);
  }
  parent.appendChild(textNode(text.slice(last)));
}

function mdBlock(parent, text, cls, mentions) {
  const p = document.createElement("div");
  if (cls) p.className = cls;
  inline(p, text, mentions);
  parent.appendChild(p);
  return p;
}

function facts(parent, rows, mentions) {
  if (!rows || !rows.length) return;
  const dl = document.createElement("dl");
  for (const f of rows) {
    const dt = document.createElement("dt");
    dt.textContent = f.label;
    const dd = document.createElement("dd");
    inline(dd, f.value, mentions);
    dl.append(dt, dd);
  }
  parent.appendChild(dl);
}

function list(parent, items, mentions) {
  if (!items || !items.length) return;
  const ul = document.createElement("ul");
  for (const item of items) {
    const li = document.createElement("li");
    inline(li, item, mentions);
    ul.appendChild(li);
  }
  parent.appendChild(ul);
}

function renderForm(parent, form) {
  const el = document.createElement("form");
  el.dataset.formId = form.form_id;
  textBlock(el, form.title, "form-title");
  for (const f of form.fields) {
    const label = document.createElement("label");
    label.textContent = f.label + (f.required ? " *" : "");
    let input;
    if (f.kind === "textarea") input = document.createElement("textarea");
    else if (f.kind === "select") {
      input = document.createElement("select");
      for (const [value, text] of f.options) {
        const o = document.createElement("option");
        o.value = value; o.textContent = text; input.appendChild(o);
      }
    } else {
      input = document.createElement("input");
      input.type = f.kind === "date" ? "date" : "text";
    }
    input.name = f.name; input.value = f.value || ""; input.maxLength = f.max_length;
    label.appendChild(input);
    if (form.errors && form.errors[f.name]) textBlock(label, form.errors[f.name], "field-error");
    el.appendChild(label);
  }
  const submit = document.createElement("button");
  submit.type = "submit"; submit.textContent = form.submit_label;
  el.appendChild(submit);
  el.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const values = {};
    for (const input of el.querySelectorAll("input, textarea, select")) values[input.name] = input.value;
    send({form: {id: form.form_id, values}}, "(form sent)");
  });
  parent.appendChild(el);
}

// ref: the inbox item's reference ("webchat:ID"); an edit names the item it replaces and takes
// its place (and its reference, which later edits name too).
function render(reply, ref) {
  const div = bubble("bot");
  div.dataset.role = "reply";
  const old = reply.replaces ? log.querySelector(`[data-ref="${CSS.escape(reply.replaces)}"]`) : null;
  if (old) old.replaceWith(div);
  // An edit of a message this page never showed stands in for it: later edits name the original.
  const own = reply.replaces || ref;
  if (own) div.dataset.ref = own;
  const tone = reply.tone || "info";
  div.classList.add("tone-" + tone);
  const mentions = reply.mentions || [];
  if (reply.title) mdBlock(div, reply.title, "title", mentions);
  const lead = reply.lead === undefined ? reply.text : reply.lead;
  if (lead) mdBlock(div, lead, "", mentions);
  facts(div, reply.fields, mentions);
  list(div, reply.items, mentions);
  for (const s of reply.sections) {
    if (s.text && s.text !== lead) mdBlock(div, s.text, "", mentions);
    facts(div, s.fields, mentions);
    list(div, s.items, mentions);
    if (s.context) mdBlock(div, s.context, "context", mentions);
  }
  for (const l of reply.links || []) {
    const url = safeUrl(l.url);
    if (url) { const p = document.createElement("div"); p.appendChild(link(l.label, url)); div.appendChild(p); }
  }
  for (const b of reply.buttons) {
    const btn = document.createElement("button");
    btn.textContent = b.label;
    btn.addEventListener("click", () => send({action: {id: b.action_id, value: b.value}}, b.label));
    div.appendChild(btn);
  }
  if (reply.form) renderForm(div, reply.form);
  if (!old) div.scrollIntoView();
}

async function send(extra, echo) {
  textBlock(bubble("me"), echo);
  try {
    const who = mode === "demo" ? {user: userInput.value} : {};
    const res = await fetch("/webchat/messages", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify(Object.assign(who, extra)),
    });
    const data = await res.json();
    if (res.status === 401) { polling = false; loadSession(); return; }
    if (!res.ok) { textBlock(bubble("bot"), data.error || "Request failed", "error"); return; }
    data.replies.forEach((reply) => render(reply));
  } catch (err) {
    textBlock(bubble("bot"), "The bot could not be reached. Is the server running?", "error");
  }
}

document.getElementById("composer").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const input = document.getElementById("text");
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  send({text}, text);
});

// The landing (welcome, suggested questions, commands) shows while the conversation is empty.
function updateLanding() { show("landing", !log.hidden && log.childElementCount === 0); }
new MutationObserver(updateLanding).observe(log, {childList: true, attributes: true,
                                                 attributeFilter: ["hidden"]});
for (const btn of document.querySelectorAll("#suggestions button")) {
  btn.addEventListener("click", () => {
    $("text").focus();  // the landing goes away with the button: keep focus somewhere useful
    send({text: btn.textContent}, btn.textContent);
  });
}

// Proactive messages (incident notifications, reminders, alerts) arrive in the inbox. The page
// remembers per person the last one it showed (localStorage), so on load it shows what waited
// while it was closed, and a reload shows nothing twice.
let inboxOwner = "";
let inboxAfter = 0;
const inboxMark = (owner) => "electionbot.inbox-shown." + owner;
function readInboxOf(owner) {
  inboxOwner = owner;
  inboxAfter = Number(localStorage.getItem(inboxMark(owner))) || 0;
}
async function pollInbox() {
  if (!polling) return;
  let full = false;
  try {
    const owner = inboxOwner;
    const user = mode === "demo" ? `user=${encodeURIComponent(userInput.value)}&` : "";
    const res = await fetch(`/webchat/inbox?${user}after=${inboxAfter}`, {credentials: "same-origin"});
    if (res.status === 401) { polling = false; loadSession(); return; }
    if (res.ok && owner === inboxOwner) {  // not meanwhile renamed or signed out
      const data = await res.json();
      for (const m of data.messages) {
        render(m.reply, `webchat:${m.id}`);
        inboxAfter = Math.max(inboxAfter, m.id);
      }
      localStorage.setItem(inboxMark(owner), String(inboxAfter));
      full = data.messages.length >= 50;  // the server's page size: more are waiting
    }
  } catch (err) { /* the server may be restarting; try again on the next tick */ }
  document.body.dataset.inbox = "read";  // what waited is shown; new messages follow
  setTimeout(pollInbox, full ? 0 : 2000);
}
loadSession().catch(() => {
  show("log", true);
  textBlock(bubble("bot"), "The bot could not be reached. Is the server running?", "error");
});
