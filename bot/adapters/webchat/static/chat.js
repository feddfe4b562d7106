// The web chat. Everything the bot says is inserted as text nodes, never as HTML: the small
// markdown reader below builds elements itself (bold, italics, code, links to http(s) and
// mailto only), so whatever a reply quotes stays text.
// Outside demo mode people sign in (local account or their organisation's sign-in) and the
// server decides who they are; in demo mode the "You are" box names a made-up person.
"use strict";
const $ = (id) => document.getElementById(id);
const log = $("log");

// The page's own words, English and Spanish (answers come from the server in their language).
// Written as strict JSON (quoted keys, no trailing commas): tests read this table. Elements name
// their string with data-i18n (text), data-i18n-placeholder or data-i18n-aria-label.
const STRINGS = {
  "en": {
    "title": "electionbot · web chat",
    "skip": "Skip to the conversation",
    "you_are": "You are (demo)",
    "sign_out": "Sign out",
    "signed_in_as": "Signed in as {name}",
    "demo_banner": "Demo mode: anyone can pick any name; never use with real data",
    "sign_in": "Sign in",
    "sign_in_with": "Sign in with {provider}",
    "sign_in_failed": "Sign-in failed.",
    "name": "Name",
    "password": "Password",
    "code": "6-digit code",
    "welcome": "Welcome",
    "intro": "Ask me about running elections: I answer from vetted articles and name their source, and I help you report an incident or follow your certification. I am nonpartisan and never share your personal data.",
    "try_asking": "Try asking",
    "ask_pause": "What is the PAUSE method?",
    "ask_phishing": "How do I report phishing?",
    "ask_kansas": "How does a Kansas county clerk get certified?",
    "ask_threat": "What should I do if someone threatens me?",
    "commands": "Commands:",
    "cmd_help": "lists everything I can do,",
    "cmd_incident": "reports an incident,",
    "cmd_cert": "shows your certification.",
    "conversation": "Conversation",
    "message": "Message",
    "placeholder": "Ask a question, or type help",
    "send": "Send",
    "form_sent": "(form sent)",
    "choose": "Choose…",
    "request_failed": "Request failed",
    "unreachable": "The bot could not be reached. Is the server running?"
  },
  "es": {
    "title": "electionbot · chat web",
    "skip": "Ir a la conversación",
    "you_are": "Usted es (demo)",
    "sign_out": "Cerrar sesión",
    "signed_in_as": "Sesión iniciada como {name}",
    "demo_banner": "Modo de demostración: cualquiera puede elegir cualquier nombre; nunca lo use con datos reales",
    "sign_in": "Iniciar sesión",
    "sign_in_with": "Iniciar sesión con {provider}",
    "sign_in_failed": "No se pudo iniciar sesión.",
    "name": "Nombre",
    "password": "Contraseña",
    "code": "Código de 6 dígitos",
    "welcome": "Bienvenido",
    "intro": "Pregúnteme sobre la administración de elecciones: respondo con artículos verificados y cito su fuente, y le ayudo a reportar un incidente o seguir su certificación. Soy no partidista y nunca comparto sus datos personales.",
    "try_asking": "Pruebe a preguntar",
    "ask_pause": "¿Qué es el método PAUSE?",
    "ask_phishing": "¿Cómo denuncio phishing?",
    "ask_kansas": "¿Qué es el programa de certificación de Kansas?",
    "ask_threat": "¿Qué hacemos si amenazan a nuestro personal electoral?",
    "commands": "Comandos (en inglés):",
    "cmd_help": "muestra todo lo que puedo hacer,",
    "cmd_incident": "reporta un incidente,",
    "cmd_cert": "muestra su certificación.",
    "conversation": "Conversación",
    "message": "Mensaje",
    "placeholder": "Pregunte o escriba ayuda",
    "send": "Enviar",
    "form_sent": "(formulario enviado)",
    "choose": "Elija…",
    "request_failed": "La solicitud no se pudo completar",
    "unreachable": "No se pudo contactar con el bot. ¿Está funcionando el servidor?"
  }
};
// The browser's language first; once the person writes, the language they write in (the server
// detects it), remembered for the next visit.
let lang = localStorage.getItem("electionbot.lang")
  || ((navigator.language || "").toLowerCase().startsWith("es") ? "es" : "en");
function t(key, values) {
  const text = (STRINGS[lang] || STRINGS.en)[key] || STRINGS.en[key] || key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (values || {})[name] || "");
}
let signedInName = "";  // shown as "Signed in as ..." in the page's language
function setLanguage(next) {
  if (!STRINGS[next]) return;
  lang = next;
  localStorage.setItem("electionbot.lang", lang);
  document.documentElement.lang = lang;
  document.title = t("title");
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of document.querySelectorAll("[data-i18n-aria-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
  }
  if (signedInName) $("who").textContent = t("signed_in_as", {name: signedInName});
  for (const a of document.querySelectorAll("#providers a.provider")) {
    a.textContent = t("sign_in_with", {provider: a.dataset.label});
  }
}
const userInput = $("user");
userInput.value = localStorage.getItem("electionbot.user") || "guest";
userInput.addEventListener("change", () => {
  localStorage.setItem("electionbot.user", userInput.value);
  readInboxOf("demo:" + userInput.value);
  loadHome();
});
let mode = "";
let csrf = "";
let polling = false;

function show(id, on) { $(id).hidden = !on; }

function showChat() {
  show("signin", false); show("log", true); show("composer", true);
  if (!polling) { polling = true; pollInbox(); }
  loadHome();
}

function showSignIn(session) {
  csrf = session.csrf || "";
  show("account", false); show("log", false); show("composer", false); show("signin", true);
  log.replaceChildren();
  const providers = $("providers");
  providers.replaceChildren();
  for (const p of session.providers || []) {
    const a = document.createElement("a");
    a.href = p.url; a.className = "provider"; a.dataset.label = p.label;
    a.textContent = t("sign_in_with", {provider: p.label});
    providers.appendChild(a);
  }
  show("signin-form", session.local_accounts !== false);
  $("signin-user").focus();
}

function showSignedIn(session) {
  csrf = session.csrf;
  readInboxOf(session.identity);
  signedInName = session.display_name || session.identity;
  $("who").textContent = t("signed_in_as", {name: signedInName});
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
  $("signin-error").textContent = data.error || t("sign_in_failed");
  if (res.status === 403) loadSession();  // a stale form token: fetch a fresh one
});

$("signout").addEventListener("click", async () => {
  await fetch("/webchat/signout", {method: "POST", credentials: "same-origin",
                                   headers: {"X-CSRF-Token": csrf}});
  polling = false;
  signedInName = "";
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
  div.lang = lang;  // the reply's own language replaces this when it names one
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
// (the reply's N-th mention, shown by name); e-mail addresses and bare web addresses
// ("VoteSure@sos.ca.gov", "catrustedinformation.sos.ca.gov") are links too, as in Slack and Teams.
const INLINE = /\*\*(\S(?:[^*\n]*?\S)?)\*\*|`([^`\n]+)`|\[([^\]\n]+)\]\(([^()\s]+)\)|(?<![\w*])[_*](\S(?:[^_*\n]*?\S)?)[_*](?![\w*])|\{@(\d{1,3})\}|(https?:\/\/[^\s<>()'"\uE021-\uE07E]*[^\s<>()'".,;:!?\uE021-\uE07E])|(?<![\w.+-])([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})(?![\w@-])|(?<![\w@.\/-])((?:[A-Za-z0-9-]+\.)+(?:gov|org|us|com|net|edu)(?:\/[^\s<>()'"\uE021-\uE07E]*[^\s<>()'".,;:!?\uE021-\uE07E])?)(?![\w@-])/g;

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
    } else if (m[7] !== undefined) {
      const url = safeUrl(m[7]);
      node = url ? link(m[7], url) : textNode(m[7]);
    } else {
      const url = safeUrl(m[8] !== undefined ? "mailto:" + m[8] : "https://" + m[9]);
      node = url ? link(m[8] !== undefined ? m[8] : m[9], url) : textNode(m[0]);
    }
    parent.appendChild(node);
  }
  parent.appendChild(textNode(text.slice(last)));
}

// A CommonMark list item: "- item", "* item", "+ item", "1. item" or "1) item".
const LIST_ITEM = /^ {0,3}(?:[-*+]|(\d{1,3})[.)])[ \t]+(\S.*)$/;

function mdBlock(parent, text, cls, mentions) {
  const p = document.createElement("div");
  if (cls) p.className = cls;
  const lines = text.split("\n");
  if (!lines.some((line) => LIST_ITEM.test(line))) {
    inline(p, text, mentions);
  } else {
    // Bullet and numbered lists become real lists (screen readers announce them and their
    // length); the lines around them stay text. An indented line continues its item.
    let run = [];
    let listEl = null;
    let item = null;  // the open item: its element and its markdown so far
    const flush = () => {
      const t = run.join("\n").replace(/^\n+|\n+$/g, "");
      if (t) { const d = document.createElement("div"); inline(d, t, mentions); p.appendChild(d); }
      run = [];
    };
    for (const line of lines) {
      const m = line.match(LIST_ITEM);
      if (m) {
        const tag = m[1] === undefined ? "ul" : "ol";
        if (!listEl || listEl.tagName.toLowerCase() !== tag) {
          flush();
          listEl = document.createElement(tag);
          if (m[1] !== undefined && m[1] !== "1") listEl.start = Number(m[1]);
          p.appendChild(listEl);
        }
        item = { li: document.createElement("li"), md: m[2] };
        inline(item.li, item.md, mentions);
        listEl.appendChild(item.li);
      } else if (item && /^\s+\S/.test(line)) {
        item.md += " " + line.trim();
        item.li.textContent = "";
        inline(item.li, item.md, mentions);
      } else if (line.trim()) {
        listEl = null;
        item = null;
        run.push(line);
      } else if (!listEl) {
        run.push(line);
      }
    }
    flush();
  }
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

// A form: its danger line first, then its warnings, title and fields. Choosing a value in a
// field marked "refresh" (the incident category) asks the server for the form that fits the
// choice and redraws the form in place, keeping what was typed.
function formValues(el) {
  const values = {};
  for (const input of el.querySelectorAll("input, textarea, select")) {
    values[input.name] = input.multiple
      ? Array.from(input.selectedOptions, (o) => o.value).join(",") : input.value;
  }
  return values;
}

function formInput(f) {
  let input;
  if (f.kind === "textarea") input = document.createElement("textarea");
  else if (f.kind === "select" || f.kind === "multiselect") {
    input = document.createElement("select");
    input.multiple = f.kind === "multiselect";
    const chosen = new Set((f.value || "").split(",").filter(Boolean));
    if (!input.multiple && !f.value && !f.options.some(([value]) => value === "")) {
      const o = document.createElement("option");  // no silent answer: nothing chosen yet
      o.value = ""; o.textContent = t("choose"); input.appendChild(o);
    }
    for (const [value, text] of f.options) {
      const o = document.createElement("option");
      o.value = value; o.textContent = text; o.selected = chosen.has(value);
      input.appendChild(o);
    }
    return input;
  } else {
    input = document.createElement("input");
    input.type = f.kind === "date" ? "date" : "text";
  }
  input.value = f.value || "";
  input.maxLength = f.max_length;
  return input;
}

function buildForm(form) {
  const el = document.createElement("form");
  el.dataset.formId = form.form_id;
  el.setAttribute("aria-label", form.title);
  if (form.banner) {
    const banner = document.createElement("div");
    banner.className = "form-banner tone-danger";
    banner.setAttribute("role", "alert");  // its look is chat.css's .form-banner
    const strong = document.createElement("strong");
    strong.textContent = form.banner;
    banner.appendChild(strong);
    el.appendChild(banner);
  }
  if (form.intro) textBlock(el, form.intro, "context");
  textBlock(el, form.title, "form-title");
  for (const f of form.fields) {
    const label = document.createElement("label");
    label.textContent = f.label + (f.required ? " *" : "");
    const input = formInput(f);
    input.name = f.name;
    if (f.required) input.setAttribute("aria-required", "true");
    if (f.refresh) input.addEventListener("change", () => redrawForm(el, f.name));
    label.appendChild(input);
    if (f.hint) textBlock(label, f.hint, "context");
    if (form.errors && form.errors[f.name]) {
      textBlock(label, form.errors[f.name], "field-error");
      input.setAttribute("aria-invalid", "true");
    }
    el.appendChild(label);
  }
  const submit = document.createElement("button");
  submit.type = "submit"; submit.textContent = form.submit_label;
  el.appendChild(submit);
  el.addEventListener("submit", (ev) => {
    ev.preventDefault();
    send({form: {id: form.form_id, values: formValues(el)}}, t("form_sent"));
  });
  return el;
}

async function redrawForm(el, changed) {
  const who = mode === "demo" ? {user: userInput.value} : {};
  try {
    const res = await fetch("/webchat/messages", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify(Object.assign(who, {form: {id: el.dataset.formId,
                                                      values: formValues(el), changed}})),
    });
    const data = await res.json();
    const next = res.ok && data.replies.length ? data.replies[0].form : null;
    if (!next) { if (res.ok) data.replies.forEach((reply) => render(reply)); return; }
    const fresh = buildForm(next);
    el.replaceWith(fresh);
    const again = fresh.querySelector(`[name="${CSS.escape(changed)}"]`);
    if (again) again.focus();
  } catch (err) { /* the form stays as it is; submitting still works */ }
}

function renderForm(parent, form) {
  parent.appendChild(buildForm(form));
}

// ref: the inbox item's reference ("webchat:ID"); an edit names the item it replaces and takes
// its place (and its reference, which later edits name too).
function render(reply, ref) {
  const div = bubble("bot");
  div.dataset.role = "reply";
  const old = reply.replaces ? log.querySelector(`[data-ref="${CSS.escape(reply.replaces)}"]`) : null;
  const hadFocus = old && old.contains(document.activeElement);
  if (old) old.replaceWith(div);
  // An edit of a message this page never showed stands in for it: later edits name the original.
  const own = reply.replaces || ref;
  if (own) div.dataset.ref = own;
  fill(div, reply);
  if (!old) div.scrollIntoView();  // its start: a long answer is read from the top
  if (hadFocus) (div.querySelector("button") || $("text")).focus();  // not lost with the old one
  return div;
}

// A reply's content (title, text, facts, sections, links, buttons, form) into an element.
function fill(div, reply) {
  if (reply.lang) div.lang = reply.lang;
  const tone = reply.tone || "info";
  div.classList.add("tone-" + tone);
  const mentions = reply.mentions || [];
  if (reply.title) mdBlock(div, reply.title, "title", mentions);
  const lead = reply.lead === undefined ? reply.text : reply.lead;
  if (lead) mdBlock(div, lead, "", mentions);
  facts(div, reply.fields, mentions);
  list(div, reply.items, mentions);
  for (const s of reply.sections) {
    if (s.text && s.text !== lead) {
      const p = mdBlock(div, s.text, "", mentions);
      if (s.lang && s.lang !== div.lang) p.lang = s.lang;  // English details in a Spanish answer
    }
    facts(div, s.fields, mentions);
    list(div, s.items, mentions);
    if (s.context) mdBlock(div, s.context, "context", mentions);
    for (const b of s.buttons || []) div.appendChild(actionButton(b));
  }
  for (const l of reply.links || []) {
    const url = safeUrl(l.url);
    if (url) { const p = document.createElement("div"); p.appendChild(link(l.label, url)); div.appendChild(p); }
  }
  for (const b of reply.buttons) div.appendChild(actionButton(b));
  if (reply.form) renderForm(div, reply.form);
}

function actionButton(b) {
  const btn = document.createElement("button");
  btn.textContent = b.label;
  btn.addEventListener("click", () => send({action: {id: b.action_id, value: b.value}}, b.label));
  return btn;
}

// After an answer, focus goes where the person continues: the first field of a form that
// opened (the first one with an error when the form came back), else the message box when the
// control they used is gone or was a form's submit; a click on a reply's button keeps its place.
function placeFocus(shown, extra) {
  const form = shown && shown.querySelector("form");
  if (form) {
    const field = form.querySelector("[aria-invalid=true], input, textarea, select");
    if (field) { field.focus(); return; }
  }
  const here = document.activeElement;
  if (extra.form || !here || here === document.body || !here.isConnected) $("text").focus();
}

async function send(extra, echo) {
  const mine = bubble("me");
  textBlock(mine, echo);
  try {
    const who = mode === "demo" ? {user: userInput.value} : {};
    const res = await fetch("/webchat/messages", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify(Object.assign(who, extra)),
    });
    const data = await res.json();
    if (res.status === 401) { polling = false; loadSession(); return; }
    if (data.lang) { mine.lang = data.lang; setLanguage(data.lang); }
    if (!res.ok) { textBlock(bubble("bot"), data.error || t("request_failed"), "error"); return; }
    let shown = null;
    data.replies.forEach((reply) => { shown = render(reply); });
    placeFocus(shown, extra);
  } catch (err) {
    textBlock(bubble("bot"), t("unreachable"), "error");
  }
}

document.getElementById("composer").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const input = document.getElementById("text");
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  input.focus();  // a click on Send would leave focus on the button
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
setLanguage(lang);
loadSession().catch(() => {
  show("log", true);
  textBlock(bubble("bot"), t("unreachable"), "error");
});

// The person's home (open incidents, certification, alerts awaiting an answer; counts for state
// staff) heads the landing, above the suggested questions. Built by the server for whoever is
// signed in (or named in demo mode), fresh each time the chat is shown.
async function loadHome() {
  const landing = $("landing");
  let panel = $("home-panel");
  if (!panel) {
    panel = document.createElement("section");
    panel.id = "home-panel";
    panel.className = "home-panel";
    panel.setAttribute("aria-label", "Your home");
    const before = $("suggestions-title");
    landing.insertBefore(panel, before && before.parentNode === landing ? before : null);
  }
  try {
    const who = mode === "demo" ? `?user=${encodeURIComponent(userInput.value)}` : "";
    const res = await fetch(`/webchat/home${who}`, {credentials: "same-origin"});
    if (!res.ok) { panel.hidden = true; return; }
    const data = await res.json();
    panel.replaceChildren();
    panel.className = "home-panel";  // fill() adds the reply's tone
    fill(panel, data.reply);
    panel.hidden = false;
    panel.dataset.loaded = "yes";
  } catch (err) { panel.hidden = true; }
}

