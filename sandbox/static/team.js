// The team pane of the sandbox page: a Slack-like channel, threads, modals and App Home over the Slack stand-in.
"use strict";

function names() {
  const map = {};
  for (const user of (page.slack && page.slack.users) || []) map[user.id] = user.name;
  return map;
}

function fmtTs(ts) {
  return fmtTime(parseFloat(ts));
}

function isReply(message) {
  return message.thread_ts && message.thread_ts !== message.ts;
}

function messagesIn(channel) {
  return ((page.slack && page.slack.messages) || []).filter((m) => m.channel === channel)
    .sort((a, b) => parseFloat(a.ts) - parseFloat(b.ts));
}

function clickCtx(channel, ts) {
  return {
    names: names(),
    onAction: (elem, blockId, option) => call("Slack", "POST", slackPath("/actions/click"), {
      user: page.slackUser, channel, ts, action_id: elem.action_id, block_id: blockId, option,
    }).then(refreshSlack),
  };
}

function slackMessage(message, { inThread = false } = {}) {
  const n = names();
  const author = message.bot_id ? page.config.slack.bot_name : (n[message.user] || message.user);
  const node = el("div", { class: "slack-msg" + (message.bot_id ? " from-bot" : ""), "data-ts": message.ts,
    "data-channel": message.channel });
  node.append(el("div", { class: "slack-msg-head" },
    el("strong", { text: author }), " ",
    el("span", { class: "meta", text: fmtTs(message.ts) + (message.edited ? " · editado" : "") })));
  const ctx = clickCtx(message.channel, message.ts);
  if (message.blocks && message.blocks.length) node.append(R.blocks(message.blocks, ctx));
  else node.append(el("div", { class: "slack-text" }, R.mrkdwn(message.text, n)));
  for (const file of message.files || []) {
    node.append(el("div", { class: "media document", text: "📎 " + (file.name || file.title || "archivo") }));
  }
  if (!inThread) {
    const replies = messagesIn(message.channel).filter((m) => isReply(m) && m.thread_ts === message.ts);
    const b = el("button", { type: "button", class: "thread-link", "data-open-thread": message.ts,
      text: replies.length ? replies.length + (replies.length === 1 ? " respuesta" : " respuestas") : "Responder en hilo" });
    b.addEventListener("click", () => openThread(message.channel, message.ts));
    node.append(b);
  }
  return node;
}

function ephemeralNode(eph) {
  const n = names();
  const node = el("div", { class: "slack-msg ephemeral", "data-ephemeral-ts": eph.ts });
  node.append(el("div", { class: "slack-msg-head" }, el("strong", { text: page.config.slack.bot_name }), " ",
    el("span", { class: "meta", text: "Solo tú puedes ver esto · " + fmtTs(eph.ts) })));
  const ctx = {
    names: n,
    onAction: (elem, blockId, option) => call("Slack", "POST", "/sandbox/page/slack/click_ephemeral", {
      user: page.slackUser, ts: eph.ts, action_id: elem.action_id, block_id: blockId, option,
    }).then(refreshSlack),
  };
  if (eph.blocks && eph.blocks.length) node.append(R.blocks(eph.blocks, ctx));
  else node.append(el("div", { class: "slack-text" }, R.mrkdwn(eph.text, n)));
  return node;
}

function ephemeralsFor(channel, threadTs) {
  return ((page.slack && page.slack.ephemerals) || []).filter((e) => e.user === page.slackUser &&
    e.channel === channel && (threadTs ? e.thread_ts === threadTs : !e.thread_ts));
}

function mixed(channel, threadTs, messages) {
  const items = messages.map((m) => ({ ts: m.ts, node: slackMessage(m, { inThread: Boolean(threadTs) }) }));
  for (const eph of ephemeralsFor(channel, threadTs)) items.push({ ts: eph.ts, node: ephemeralNode(eph) });
  items.sort((a, b) => parseFloat(a.ts) - parseFloat(b.ts));
  return items.map((i) => i.node);
}

function renderChannel() {
  const channel = page.config.slack.channel;
  const box = $("slack-channel");
  const top = messagesIn(channel).filter((m) => !isReply(m));
  box.replaceChildren(...mixed(channel, null, top));
  if (!box.children.length) box.append(el("p", { class: "empty", text: "Todavía no hay tickets en #" + page.config.slack.channel_name + "." }));
  box.scrollTop = box.scrollHeight;
}

function dmChannel() {
  const channels = (page.slack && page.slack.channels) || [];
  const dm = channels.find((c) => c.is_im && c.user === page.slackUser);
  return dm ? dm.id : null;
}

function renderDm() {
  const box = $("slack-dm");
  const channel = dmChannel();
  const list = channel ? mixed(channel, null, messagesIn(channel).filter((m) => !isReply(m))) : [];
  box.replaceChildren(el("p", { class: "note", text: "Conversación directa entre la app y " + personName() + "." }), ...list);
  if (!list.length) box.append(el("p", { class: "empty", text: "Sin mensajes directos." }));
}

function renderHome() {
  const box = $("slack-home");
  const home = page.slack && page.slack.homes && page.slack.homes[page.slackUser];
  if (!home) {
    box.replaceChildren(el("p", { class: "empty", text: "La app no ha publicado una pestaña de Inicio para " + personName() + "." }));
    return;
  }
  box.replaceChildren(R.blocks(home.blocks, viewCtx(home)));
}

function viewCtx(view) {
  return {
    names: names(),
    errors: page.modalErrors[view.id] || {},
    onAction: (elem, blockId, option) => call("Slack", "POST", slackPath("/actions/click_view"), {
      user: page.slackUser, view_id: view.id, action_id: elem.action_id, block_id: blockId, option,
    }).then(refreshSlack),
  };
}

function renderThread() {
  const panel = $("slack-thread");
  if (!page.thread) { panel.hidden = true; return; }
  const { channel, ts } = page.thread;
  const parent = messagesIn(channel).find((m) => m.ts === ts);
  if (!parent) { page.thread = null; panel.hidden = true; return; }
  panel.hidden = false;
  panel.setAttribute("data-thread-ts", ts);
  $("slack-thread-parent").replaceChildren(slackMessage(parent, { inThread: true }));
  const replies = messagesIn(channel).filter((m) => isReply(m) && m.thread_ts === ts);
  $("slack-thread-replies").replaceChildren(...mixed(channel, ts, replies));
}

function renderModal() {
  const backdrop = $("slack-modal");
  const stack = (page.slack && page.slack.views && page.slack.views[page.slackUser]) || [];
  const view = stack[stack.length - 1];
  if (!view) {
    backdrop.hidden = true;
    page.modalKey = "";
    return;
  }
  const key = view.id + "|" + view.hash + "|" + JSON.stringify(page.modalErrors[view.id] || {});
  if (key === page.modalKey) return; // keep what the person is typing
  page.modalKey = key;
  backdrop.hidden = false;
  backdrop.setAttribute("data-view-id", view.id);
  backdrop.setAttribute("data-callback-id", view.callback_id || "");
  $("slack-modal-title").textContent = (view.title && view.title.text) || "";
  $("slack-modal-submit").textContent = (view.submit && view.submit.text) || "Enviar";
  $("slack-modal-submit").hidden = !view.submit;
  $("slack-modal-close").textContent = (view.close && view.close.text) || "Cerrar";
  $("slack-modal-body").replaceChildren(R.blocks(view.blocks, viewCtx(view)));
}

function personName() {
  const person = page.config.slack.people.find((p) => p.id === page.slackUser);
  return person ? person.name : page.slackUser;
}

function renderSlack() {
  if (!page.slack) return;
  renderChannel();
  renderDm();
  renderHome();
  renderThread();
  renderModal();
}

let slackTimer = null;
function refreshSlack() {
  clearTimeout(slackTimer);
  slackTimer = setTimeout(loadSlack, 40);
}

async function loadSlack() {
  const data = await call("Slack", "GET", slackPath("/state"));
  if (data) {
    page.slack = data;
    renderSlack();
  }
}

function openThread(channel, ts) {
  page.thread = { channel, ts };
  renderThread();
  $("slack-thread-input").focus();
}

async function submitModal(event) {
  event.preventDefault();
  const viewId = $("slack-modal").getAttribute("data-view-id");
  const values = {};
  for (const node of $("slack-modal-body").querySelectorAll("[data-type][data-block-id][data-action-id]")) {
    const blockId = node.getAttribute("data-block-id");
    const actionId = node.getAttribute("data-action-id");
    (values[blockId] = values[blockId] || {})[actionId] = R.inputValue(node);
  }
  await call("Slack", "POST", slackPath("/actions/submit"), { user: page.slackUser, view_id: viewId, values });
  refreshSlack();
}

function showTab(tab) {
  page.tab = tab;
  for (const button of document.querySelectorAll("[data-tab]")) button.classList.toggle("active", button.dataset.tab === tab);
  for (const view of document.querySelectorAll(".slack-main [data-view]")) view.hidden = view.dataset.view !== tab;
  $("slack-composer").hidden = tab === "home";
  $("slack-input").placeholder = tab === "dm" ? "Escribe a la app…" : "Escribe en #" + page.config.slack.channel_name + "…";
  if (tab === "home") {
    call("Slack", "POST", slackPath("/actions/home"), { user: page.slackUser }).then(refreshSlack);
  }
}

