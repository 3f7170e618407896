"""The question each intake step asks, with its buttons: what the client sees when a step starts or repeats."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.conversation.model import Button, IntakeContext, IntakeState, Msg, ProductOption, Reply, Step
from bot.domain.types import ExcludedTopic, ServiceArea

# Button actions (the part of callback_data after "i:<seq>:"); short, so data stays far below 64 bytes.
BACK = "back"
CANCEL = "cancel"
OK = "ok"
YES = "y"
NO = "n"
DONT_KNOW = "dk"
AREA_OTHER = "a.other"
EXCLUDED_NONE = "x.none"
PRODUCT_OTHER = "p.other"
REMOTE = "acc.remote"
ONSITE = "acc.onsite"
RULES_NONE = "none"
EDIT_SERVICE = "e.svc"
EDIT_DESCRIPTION = "e.desc"
EDIT_ACCESS = "e.acc"
CAUSE_PRODUCT = "c.product"  # R-WARRANTY: nobody changed anything, the product failed
CAUSE_CHANGE = "c.change"  # a change (the client's, a third party's) came first: not free
CAUSE_UNSURE = "c.unsure"  # provisionally the product's; the consultant confirms at resolution
# Buttons that end a refused report without a dead end; bot.services.identity routes them (never "i:" data).
REPORT_AGAIN = "m:report"
MENU_HOME = "m:menu"
PRODUCT_LABEL_MAX = 60
EXCERPT_CHARS = 160

AREA_ORDER = (
    ServiceArea.SOFTWARE,
    ServiceArea.SWITCHING,
    ServiceArea.ROUTING,
    ServiceArea.WIRELESS,
    ServiceArea.FIREWALL,
    ServiceArea.PERIMETER_SECURITY,
    ServiceArea.CABLING,
    ServiceArea.MAINTENANCE,
)


def data(state: IntakeState, action: str) -> str:
    """callback_data of a button of the current step: "i:<seq>:<action>"."""
    return f"i:{state.seq}:{action}"


def _b(state: IntakeState, key: str, action: str) -> Button:
    return Button(Msg(key), data(state, action))


def _rows(buttons: Sequence[Button], per_row: int) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))


def _nav(state: IntakeState, *, back: bool = True) -> tuple[Button, ...]:
    row = [_b(state, "common.cancel", CANCEL)]
    if back and state.trail:
        row.insert(0, _b(state, "common.back", BACK))
    return tuple(row)


def _ask(state: IntakeState, lines: Sequence[Msg], choices: Sequence[Button] = (), per_row: int = 2) -> Reply:
    return Reply(tuple(lines), (*_rows(choices, per_row), _nav(state)))


def offered(state: IntakeState, ctx: IntakeContext) -> list[ProductOption]:
    """The products the intake offers: all of the client's, or, on the warranty route alone (R-WARRANTY), only
    those that may get free support (inside their warranty, not discontinued)."""
    if not state.warranty_only:
        return list(ctx.products)
    return [o for o in ctx.products if o.product.in_warranty(ctx.today) and not o.product.discontinued]


def products_for(state: IntakeState, ctx: IntakeContext) -> list[Button]:
    """The client's products of the chosen area, as buttons (names are literal labels)."""
    buttons = [
        Button(option.product.name[:PRODUCT_LABEL_MAX], data(state, f"p.{option.id}"))
        for option in offered(state, ctx)
        if state.area is not None and option.product.area.value == state.area
    ]
    return buttons


def _area(state: IntakeState, ctx: IntakeContext) -> Reply:
    keys = {
        ServiceArea.SOFTWARE: "intake.area.software",
        ServiceArea.SWITCHING: "intake.area.switching",
        ServiceArea.ROUTING: "intake.area.routing",
        ServiceArea.WIRELESS: "intake.area.wireless",
        ServiceArea.FIREWALL: "intake.area.firewall",
        ServiceArea.PERIMETER_SECURITY: "intake.area.perimeter_security",
        ServiceArea.CABLING: "intake.area.cabling",
        ServiceArea.MAINTENANCE: "intake.area.maintenance",
    }
    # R-WARRANTY: on the warranty route alone, only the services with a product in warranty are offered.
    areas = {o.product.area for o in offered(state, ctx)} if state.warranty_only else set(AREA_ORDER)
    buttons = [_b(state, keys[area], f"a.{area.value}") for area in AREA_ORDER if area in areas]
    buttons.append(_b(state, "intake.area.other", AREA_OTHER))
    return _ask(state, [Msg("intake.area.question")], buttons)


def _excluded(state: IntakeState, ctx: IntakeContext) -> Reply:
    keys = {
        ExcludedTopic.DEVELOPMENT: "intake.excluded.development",
        ExcludedTopic.TRAINING: "intake.excluded.training",
        ExcludedTopic.THIRD_PARTY: "intake.excluded.third_party",
        ExcludedTopic.BUSINESS_CONSULTING: "intake.excluded.business_consulting",
    }
    buttons = [_b(state, keys[topic], f"x.{topic.value}") for topic in ExcludedTopic]
    buttons.append(_b(state, "intake.excluded.none", EXCLUDED_NONE))
    return _ask(state, [Msg("intake.excluded.question")], buttons, per_row=1)


def _product(state: IntakeState, ctx: IntakeContext) -> Reply:
    buttons = products_for(state, ctx)
    if not state.warranty_only:  # R-WARRANTY: an unregistered product cannot be shown to be in warranty
        buttons.append(_b(state, "intake.product.other", PRODUCT_OTHER))
    return _ask(state, [Msg("intake.product.question")], buttons, per_row=1)


def _product_other(state: IntakeState, ctx: IntakeContext) -> Reply:
    key = "intake.product.other_prompt" if products_for(state, ctx) else "intake.product.none_registered"
    return _ask(state, [Msg(key)])


def _triage_down(state: IntakeState, ctx: IntakeContext) -> Reply:
    buttons = [
        _b(state, "intake.triage.down_yes", "t.down"),
        _b(state, "intake.triage.down_wrong", "t.wrong"),
        _b(state, "intake.triage.down_question", "t.question"),
    ]
    return _ask(state, [Msg("intake.triage.question_down")], buttons, per_row=1)


def _triage_kind(state: IntakeState, ctx: IntakeContext) -> Reply:
    buttons = [
        _b(state, "intake.triage.kind_usage", "t.usage_question"),
        _b(state, "intake.triage.kind_suggestion", "t.suggestion"),
        _b(state, "intake.triage.kind_documentation", "t.documentation"),
    ]
    return _ask(state, [Msg("intake.triage.question_kind")], buttons, per_row=1)


def _triage_impact(state: IntakeState, ctx: IntakeContext) -> Reply:
    buttons = [
        _b(state, "intake.triage.impact_high", "t.high"),
        _b(state, "intake.triage.impact_medium", "t.medium"),
    ]
    return _ask(state, [Msg("intake.triage.question_impact")], buttons, per_row=1)


def _yes_no(state: IntakeState, key: str) -> Reply:
    return _ask(state, [Msg(key)], [_b(state, "common.yes", YES), _b(state, "common.no", NO)])


def _triage_documented(state: IntakeState, ctx: IntakeContext) -> Reply:
    return _yes_no(state, "intake.triage.question_documented")


def _triage_reach(state: IntakeState, ctx: IntakeContext) -> Reply:
    buttons = [
        _b(state, "intake.triage.users_me", "t.only_me"),
        _b(state, "intake.triage.users_area", "t.my_area"),
        _b(state, "intake.triage.users_company", "t.whole_company"),
    ]
    return _ask(state, [Msg("intake.triage.question_users")], buttons, per_row=3)


def _triage_business(state: IntakeState, ctx: IntakeContext) -> Reply:
    return _yes_no(state, "intake.triage.question_business")


def _triage_cause(state: IntakeState, ctx: IntakeContext) -> Reply:
    buttons = [
        _b(state, "intake.triage.cause_product", CAUSE_PRODUCT),
        _b(state, "intake.triage.cause_change", CAUSE_CHANGE),
        _b(state, "intake.triage.cause_unsure", CAUSE_UNSURE),
    ]
    question = Msg("intake.triage.question_cause", {"product": state.product_name or ""})
    return _ask(state, [question], buttons, per_row=1)


def _description(state: IntakeState, ctx: IntakeContext) -> Reply:
    if state.description:
        return _ask(state, [Msg("intake.description.add_more")], [_b(state, "common.continue", OK)])
    return _ask(state, [Msg("intake.description.prompt")])


def _since(state: IntakeState, ctx: IntakeContext) -> Reply:
    return _ask(
        state, [Msg("intake.since.question"), Msg("intake.since.hint")], [_b(state, "common.dont_know", DONT_KNOW)]
    )


def _attachments(state: IntakeState, ctx: IntakeContext) -> Reply:
    count = len(state.attachments) + len(state.links)
    if count == 0:
        lines = [Msg("intake.attachments.prompt"), Msg("intake.attachments.limit", {"max_mb": _mb(ctx.max_file_bytes)})]
        return _ask(state, lines, [_b(state, "intake.attachments.none_button", OK)])
    return _ask(state, [received(count)], [_b(state, "intake.attachments.done_button", OK)])


def received(count: int) -> Msg:
    """ "Recibí N archivos" (singular for one)."""
    if count == 1:
        return Msg("intake.attachments.received_one")
    return Msg("intake.attachments.received_other", {"count": count})


def _mb(size: int) -> int:
    return size // (1024 * 1024)


def _access(state: IntakeState, ctx: IntakeContext) -> Reply:
    buttons = [_b(state, "intake.access.remote", REMOTE), _b(state, "intake.access.onsite", ONSITE)]
    return _ask(state, [Msg("intake.access.question")], buttons, per_row=1)


def _tv_id(state: IntakeState, ctx: IntakeContext) -> Reply:
    return _ask(state, [Msg("intake.access.teamviewer_id_prompt")])


def _tv_password(state: IntakeState, ctx: IntakeContext) -> Reply:
    return _ask(state, [Msg("intake.access.teamviewer_password_prompt"), Msg("intake.access.admin_rights")])


def _equipment_question(state: IntakeState, ctx: IntakeContext) -> Reply:
    return _yes_no(state, "intake.access.equipment_password_question")


def _equipment_password(state: IntakeState, ctx: IntakeContext) -> Reply:
    return _ask(state, [Msg("intake.access.equipment_password_prompt")])


def _onsite_address(state: IntakeState, ctx: IntakeContext) -> Reply:
    return _ask(state, [Msg("intake.onsite.address_prompt")])


def _onsite_contact(state: IntakeState, ctx: IntakeContext) -> Reply:
    return _ask(state, [Msg("intake.onsite.contact_prompt")])


def _onsite_rules(state: IntakeState, ctx: IntakeContext) -> Reply:
    return _ask(state, [Msg("intake.onsite.rules_prompt")], [_b(state, "intake.onsite.rules_none", RULES_NONE)])


def _purchase_order(state: IntakeState, ctx: IntakeContext) -> Reply:
    return Reply((Msg("contract.refused.purchase_order_needed"),), (_nav(state),))


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The first words of a description, cut on a word with an ellipsis (the whole text stays stored)."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0] or flat[:limit]
    return cut + "…"


def summary_lines(state: IntakeState) -> list[Msg]:
    """The summary's sections (section keys are edited with the buttons below them)."""
    area = Msg(f"intake.area.{state.area}") if state.area else ""
    product: Msg | str = state.product_name or Msg("common.other")
    lines = [
        Msg("intake.summary.title"),
        Msg(
            "intake.summary.service",
            {"area": area, "product": product, "severity": Msg(f"intake.severity.label.{state.severity}")},
        ),
    ]
    since = state.since()
    lines.append(Msg("intake.summary.since", {"since": since if since else Msg("intake.since.unknown")}))
    count = len(state.attachments)
    if count == 0:
        lines.append(Msg("intake.summary.attachments_none"))
    elif count == 1:
        lines.append(Msg("intake.summary.attachments_one"))
    else:
        lines.append(Msg("intake.summary.attachments_other", {"count": count}))
    if state.access == "remote":
        lines.append(Msg("intake.summary.access_remote", {"teamviewer_id": state.teamviewer_id or ""}))
    elif state.access == "onsite":
        lines.append(
            Msg(
                "intake.summary.access_onsite",
                {"address": state.onsite_address or "", "contact": state.onsite_contact or ""},
            )
        )
    lines.append(Msg("intake.summary.description", {"excerpt": excerpt(state.description)}))
    if not state.charged:
        lines.append(Msg("intake.summary.warranty"))  # R-WARRANTY: the mark the ticket will carry
    return lines


def _summary(state: IntakeState, ctx: IntakeContext) -> Reply:
    buttons = (
        (_b(state, "intake.summary.confirm", OK),),
        (
            _b(state, "intake.summary.edit_service", EDIT_SERVICE),
            _b(state, "intake.summary.edit_description", EDIT_DESCRIPTION),
        ),
        (_b(state, "intake.summary.edit_access", EDIT_ACCESS), _b(state, "intake.summary.cancel", CANCEL)),
    )
    return Reply(tuple(summary_lines(state)), buttons)


PROMPTS: dict[Step, Callable[[IntakeState, IntakeContext], Reply]] = {
    Step.PURCHASE_ORDER: _purchase_order,
    Step.AREA: _area,
    Step.EXCLUDED: _excluded,
    Step.PRODUCT: _product,
    Step.PRODUCT_OTHER: _product_other,
    Step.TRIAGE_DOWN: _triage_down,
    Step.TRIAGE_KIND: _triage_kind,
    Step.TRIAGE_IMPACT: _triage_impact,
    Step.TRIAGE_DOCUMENTED: _triage_documented,
    Step.TRIAGE_REACH: _triage_reach,
    Step.TRIAGE_BUSINESS: _triage_business,
    Step.TRIAGE_CAUSE: _triage_cause,
    Step.DESCRIPTION: _description,
    Step.SINCE: _since,
    Step.ATTACHMENTS: _attachments,
    Step.ACCESS: _access,
    Step.TV_ID: _tv_id,
    Step.TV_PASSWORD: _tv_password,
    Step.EQUIPMENT_QUESTION: _equipment_question,
    Step.EQUIPMENT_PASSWORD: _equipment_password,
    Step.ONSITE_ADDRESS: _onsite_address,
    Step.ONSITE_CONTACT: _onsite_contact,
    Step.ONSITE_RULES: _onsite_rules,
    Step.SUMMARY: _summary,
}


def prompt(state: IntakeState, ctx: IntakeContext) -> Reply:
    """The question of the state's step with its buttons (the state table's one entry point for asking)."""
    return PROMPTS[state.step](state, ctx)
