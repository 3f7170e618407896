// The sandbox page's shared part: state, calls to the stand-ins, the loud violations panel, live updates, start.
"use strict";

const el = R.el;
const $ = (id) => document.getElementById(id);

const page = {
  config: null,
  tgUser: null,
  slackUser: null,
  chat: null,
  slack: null,
  tab: "channel",
  thread: null, // { channel, ts }
  modalKey: "",
  modalErrors: {}, // view_id -> { block_id: message }
  seenAlerts: new Set(),
  alertCount: 0,
  live: { telegram: false, slack: false },
};

// ---------------------------------------------------------------------------------------------
// Talking to the stand-ins; every refusal is shown loudly.
async function call(source, method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    alertBox({ source, method: path, error: "sin conexión con el sandbox: " + err.message });
    return null;
  }
  let data = null;
  try {
    data = await response.json();
  } catch (err) {
    data = { ok: false, error: "respuesta no es JSON (HTTP " + response.status + ")" };
  }
  if (!response.ok || (data && data.ok === false)) {
    alertBox({ source, method: path.replace(/^.*\/sandbox\//, ""), error: (data && data.error) || "HTTP " + response.status });
    return null;
  }
  return data;
}

const tgPath = (rest) => page.config.telegram.prefix + "/sandbox/telegram" + rest;
const slackPath = (rest) => page.config.slack.prefix + "/sandbox/slack" + rest;

// ---------------------------------------------------------------------------------------------
// The loud panel of violations and errors.
function alertBox(item) {
  const key = [item.source, item.method, item.error, item.at || Math.random()].join("|");
  if (page.seenAlerts.has(key)) return;
  page.seenAlerts.add(key);
  page.alertCount += 1;
  const details = item.details ? JSON.stringify(item.details) : "";
  const entry = el("li", { class: "violation", "data-source": item.source, "data-method": item.method },
    el("span", { class: "v-source", text: item.source }),
    el("span", { class: "v-method", text: item.method }),
    el("span", { class: "v-error", text: item.error }));
  if (item.kind) entry.append(el("span", { class: "v-kind", text: item.kind }));
  if (details && details !== "{}") entry.append(el("code", { class: "v-details", text: details.slice(0, 400) }));
  $("alerts-list").prepend(entry);
  $("alerts-title").textContent = "⚠ " + page.alertCount + (page.alertCount === 1
    ? " infracción o error: Telegram o Slack reales lo habrían rechazado"
    : " infracciones o errores: Telegram o Slack reales los habrían rechazado");
  $("alerts").hidden = false;
  $("alerts").classList.remove("flash");
  void $("alerts").offsetWidth; // restart the flash animation
  $("alerts").classList.add("flash");
}

function telegramViolation(v) {
  alertBox({ source: "Telegram", method: v.method, kind: v.kind, at: v.at,
    error: (v.error_code ? v.error_code + " " : "") + v.description, details: v.params });
}

function slackViolation(v) {
  alertBox({ source: "Slack", method: v.method, kind: v.kind, at: v.at, error: v.error, details: v.details });
}

// ---------------------------------------------------------------------------------------------
// Live updates
function setLive(which, on) {
  page.live[which] = on;
  const live = $("live");
  const both = page.live.telegram && page.live.slack;
  live.dataset.state = both ? "live" : "connecting";
  live.textContent = both ? "● en vivo" : "reconectando…";
}

function listen() {
  const tg = new EventSource(tgPath("/events"));
  tg.onopen = () => setLive("telegram", true);
  tg.onerror = () => setLive("telegram", false);
  for (const kind of ["message", "edited", "deleted", "chat_action"]) {
    tg.addEventListener(kind, (event) => {
      const data = JSON.parse(event.data);
      if (data.chat_id === page.tgUser) refreshChat();
    });
  }
  tg.addEventListener("callback_answer", (event) => {
    const data = JSON.parse(event.data);
    if (data.chat_id === page.tgUser && data.text) toast(data.text, data.show_alert);
  });
  tg.addEventListener("violation", (event) => telegramViolation(JSON.parse(event.data).violation));

  const slack = new EventSource(slackPath("/events"));
  slack.onopen = () => setLive("slack", true);
  slack.onerror = () => setLive("slack", false);
  slack.addEventListener("violation", (event) => slackViolation(JSON.parse(event.data)));
  slack.addEventListener("view_errors", (event) => {
    const data = JSON.parse(event.data);
    page.modalErrors[data.view_id] = data.errors;
    refreshSlack();
  });
  for (const kind of ["message", "message_changed", "message_deleted", "ephemeral", "view_opened", "view_pushed",
    "view_updated", "view_closed", "home_published", "user_added", "reaction_added", "file_uploaded"]) {
    slack.addEventListener(kind, refreshSlack);
  }
}

// ---------------------------------------------------------------------------------------------
// Start
function fillPeople() {
  const tgSelect = $("tg-person");
  for (const person of page.config.telegram.people) {
    tgSelect.append(el("option", { value: person.id, text: person.name + " (" + person.language + ")" }));
  }
  const slackSelect = $("slack-person");
  for (const person of page.config.slack.people) {
    slackSelect.append(el("option", { value: person.id, text: person.name + " · " + person.role_label }));
  }
  page.tgUser = page.config.telegram.people[0].id;
  page.slackUser = page.config.slack.people[0].id;
  const note = () => {
    const person = page.config.telegram.people.find((p) => p.id === page.tgUser);
    $("tg-person-note").textContent = person ? person.note : "";
  };
  note();
  tgSelect.addEventListener("change", () => {
    page.tgUser = Number(tgSelect.value);
    note();
    loadChat();
  });
  slackSelect.addEventListener("change", () => {
    page.slackUser = slackSelect.value;
    page.modalKey = "";
    renderSlack();
    if (page.tab === "home") showTab("home");
  });
}

function wire() {
  $("tg-composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("tg-input").value;
    if (!text.trim()) return;
    $("tg-input").value = "";
    sendText(text);
  });
  $("tg-menu-button").addEventListener("click", () => { $("tg-commands").hidden = !$("tg-commands").hidden; });
  $("tg-sample-photo").addEventListener("click", () => userAction("photo", { width: 1280, height: 960 }));
  $("tg-big-file").addEventListener("click", () => userAction("document", {
    file_name: "respaldo-servidor.zip", size: 25 * 1024 * 1024, mime_type: "application/zip" }));
  $("tg-file").addEventListener("change", () => {
    const file = $("tg-file").files[0];
    if (file) uploadFile(file);
    $("tg-file").value = "";
  });
  $("tg-share-contact").addEventListener("click", shareContact);

  $("slack-composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("slack-input").value;
    if (!text.trim()) return;
    $("slack-input").value = "";
    const channel = page.tab === "dm" ? page.slackUser : page.config.slack.channel;
    call("Slack", "POST", slackPath("/actions/post"), { user: page.slackUser, channel, text }).then(refreshSlack);
  });
  $("slack-thread-composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("slack-thread-input").value;
    if (!text.trim() || !page.thread) return;
    $("slack-thread-input").value = "";
    call("Slack", "POST", slackPath("/actions/post"), {
      user: page.slackUser, channel: page.thread.channel, text, thread_ts: page.thread.ts,
    }).then(refreshSlack);
  });
  $("slack-thread-close").addEventListener("click", () => { page.thread = null; renderThread(); });
  for (const button of document.querySelectorAll("[data-tab]")) {
    button.addEventListener("click", () => showTab(button.dataset.tab));
  }
  $("slack-modal-form").addEventListener("submit", submitModal);
  $("slack-modal-close").addEventListener("click", () => {
    const viewId = $("slack-modal").getAttribute("data-view-id");
    call("Slack", "POST", slackPath("/actions/close"), { user: page.slackUser, view_id: viewId }).then(refreshSlack);
  });
  $("alerts-clear").addEventListener("click", () => { $("alerts").hidden = true; });
}

async function start() {
  const data = await call("Página", "GET", "/sandbox/page/config");
  if (!data) return;
  page.config = data.result;
  $("tg-bot-name").textContent = page.config.telegram.bot_name;
  document.querySelector('[data-tab="channel"]').textContent = "#" + page.config.slack.channel_name;
  fillPeople();
  wire();
  listen();
  await Promise.all([loadChat(), loadSlack()]);
  const old = await call("Telegram", "GET", tgPath("/violations"));
  for (const v of (old && old.result) || []) telegramViolation(v);
  for (const v of (page.slack && page.slack.violations) || []) slackViolation(v);
  document.body.dataset.ready = "true";
}

document.addEventListener("DOMContentLoaded", start);
