// The page's third pane: a client's mailbox. Write to the support mailbox as a client; the bot's replies land here.
"use strict";

const mail = { people: [], messages: [], who: null, replyTo: null, shown: "" };

function mailConversation() {
  const who = (mail.who || "").toLowerCase();
  return mail.messages.filter((m) => (m.direction === "in" ? m.sender : m.to).toLowerCase().includes(who));
}

// Links as links; a Telegram deep link (t.me/<bot>?start=...) opens in the Telegram pane instead.
function mailText(text) {
  const out = el("div", { class: "mail-text" });
  for (const piece of text.split(/(https?:\/\/\S+)/)) {
    const deep = piece.match(/^https:\/\/t\.me\/[^?\s]+\?start=(\S+)$/);
    if (deep) {
      const button = el("button", { type: "button", class: "mail-deeplink", text: "Abrir en Telegram (panel izquierdo)" });
      button.addEventListener("click", () => sendText("/start " + deep[1]));
      out.append(el("span", { class: "meta", text: piece + " " }), button);
    } else if (/^https?:\/\//.test(piece)) {
      out.append(el("a", { href: piece, target: "_blank", rel: "noopener", text: piece }));
    } else {
      out.append(document.createTextNode(piece));
    }
  }
  return out;
}

function mailItem(m) {
  const item = el("article", { class: "mail-item " + m.direction, "data-direction": m.direction, "data-id": String(m.id) });
  const when = new Date(m.at).toLocaleString("es-MX", { dateStyle: "short", timeStyle: "short" });
  const who = m.direction === "in" ? "Tú → soporte" : "Soporte → tú";
  item.append(el("div", { class: "mail-head" },
    el("strong", { class: "mail-subject", text: m.subject || "(sin asunto)" }),
    el("span", { class: "meta", text: who + " · " + when + (m.automatic ? " · respuesta automática" : "") })));
  item.append(mailText(m.text));
  if (m.files && m.files.length) item.append(el("div", { class: "meta", text: "📎 " + m.files.join(", ") }));
  if (m.direction === "out") {
    const reply = el("button", { type: "button", class: "mail-reply", text: "Responder" });
    reply.addEventListener("click", () => {
      mail.replyTo = m;
      $("mail-subject").value = /^re:/i.test(m.subject) ? m.subject : "Re: " + m.subject;
      renderMailComposer();
      $("mail-text").focus();
    });
    item.append(reply);
  }
  return item;
}

function renderMailComposer() {
  const chip = $("mail-replying");
  chip.hidden = !mail.replyTo;
  chip.textContent = mail.replyTo ? "Respondiendo a «" + mail.replyTo.subject + "» (clic para cancelar)" : "";
}

function renderMail() {
  const person = mail.people.find((p) => p.address === mail.who);
  $("mail-person-note").textContent = person ? person.address + " · " + person.note : "";
  const list = $("mail-messages");
  const items = mailConversation();
  const key = mail.who + "|" + items.map((m) => m.id).join(",");
  if (key === mail.shown) return;
  mail.shown = key;
  list.replaceChildren(...(items.length ? items.map(mailItem) : [el("p", { class: "empty", text: "Sin correos todavía: escribe a soporte." })]));
  list.scrollTop = list.scrollHeight;
}

async function loadMail() {
  const data = await call("Correo", "GET", "/mail/state");
  if (!data) return;
  mail.people = data.people;
  mail.messages = data.messages;
  renderMail();
}

async function sendMail(event) {
  event.preventDefault();
  const text = $("mail-text").value;
  if (!text.trim()) return;
  const body = { sender: mail.who, subject: $("mail-subject").value, text };
  if (mail.replyTo) {
    // A mail program quotes what it answers: the bot must read only the new part.
    body.reply_to = mail.replyTo.message_id;
    body.text = text + "\n\nEl " + new Date(mail.replyTo.at).toLocaleString("es-MX") + ", Soporte escribió:\n"
      + mail.replyTo.text.split("\n").map((line) => "> " + line).join("\n");
  }
  const data = await call("Correo", "POST", "/mail/send", body);
  if (!data) return;
  $("mail-text").value = "";
  $("mail-subject").value = "";
  mail.replyTo = null;
  renderMailComposer();
  await loadMail();
}

async function startMail() {
  const data = await call("Correo", "GET", "/mail/state");
  if (!data) return;
  mail.people = data.people;
  const select = $("mail-person");
  for (const p of mail.people) select.append(el("option", { value: p.address, text: p.name + " <" + p.address + ">" }));
  mail.who = mail.people.length ? mail.people[0].address : null;
  select.addEventListener("change", () => { mail.who = select.value; mail.replyTo = null; renderMailComposer(); renderMail(); });
  $("mail-composer").addEventListener("submit", sendMail);
  $("mail-replying").addEventListener("click", () => { mail.replyTo = null; renderMailComposer(); });
  mail.messages = data.messages;
  renderMail();
  setInterval(loadMail, 1000);
  document.body.dataset.mailReady = "true";
}

document.addEventListener("DOMContentLoaded", startMail);
