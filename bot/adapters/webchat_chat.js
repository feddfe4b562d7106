// The local web chat. Everything the bot says is inserted as text, never as HTML.
"use strict";
const log = document.getElementById("log");
const userInput = document.getElementById("user");
userInput.value = localStorage.getItem("electionbot.user") || "guest";
userInput.addEventListener("change", () => localStorage.setItem("electionbot.user", userInput.value));

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
  textBlock(div, reply.text);
  for (const s of reply.sections) {
    if (s.text && s.text !== reply.text) textBlock(div, s.text);
    if (s.context) textBlock(div, s.context, "context");
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
    const res = await fetch("/webchat/messages", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify(Object.assign({user: userInput.value}, extra)),
    });
    const data = await res.json();
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

// Proactive messages (incident notifications, reminders, alerts) arrive in the inbox.
let inboxAfter = 0;
let inboxPrimed = false;
async function pollInbox() {
  try {
    const user = encodeURIComponent(userInput.value);
    const res = await fetch(`/webchat/inbox?user=${user}&after=${inboxAfter}`);
    if (res.ok) {
      const data = await res.json();
      for (const m of data.messages) {
        inboxAfter = Math.max(inboxAfter, m.id);
        if (inboxPrimed) render(m.reply, `webchat:${m.id}`);
      }
    }
  } catch (err) { /* the server may be restarting; try again on the next tick */ }
  inboxPrimed = true;
  document.body.dataset.inbox = "primed";  // older messages are history; new ones show
  setTimeout(pollInbox, 2000);
}
pollInbox();
