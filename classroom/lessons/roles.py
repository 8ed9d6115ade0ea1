"""Which installed models play a lesson's roles ("balanced", "majority-heavy", "transfer").

A lesson names models by what they show, not by key: the platform picks real models
where an operator installed them, and falls back to the synthetic demo models (saying
so) when it has nothing else.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inference.models import ModelVersion

# A training mix counts as "majority-heavy" when one group has at least this many times the
# images of the smallest; as "balanced" when no group has more than this ratio.
HEAVY_RATIO = 3.0
BALANCED_RATIO = 1.2

ROLE_NAMES = {
    "balanced": _("trained on the same number of images of every group"),
    "majority-heavy": _("trained on many more images of one group"),
    "transfer": _("VGG-Face transfer learning"),
}


def _ratio(model: ModelVersion) -> float | None:
    counts = [n for n in (model.composition or {}).values() if isinstance(n, int | float)]
    if len(counts) < 2 or max(counts) <= 0:
        return None
    return float("inf") if min(counts) <= 0 else max(counts) / min(counts)


def plays(model: ModelVersion, role: str) -> bool:
    ratio = _ratio(model)
    if role == "transfer":
        return model.family == ModelVersion.Family.VGG
    if model.family != ModelVersion.Family.MLP or ratio is None:
        return False
    return ratio <= BALANCED_RATIO if role == "balanced" else ratio >= HEAVY_RATIO


@dataclass
class Casting:
    """The models chosen for a lesson's roles, all on one list of groups."""

    models: dict[str, ModelVersion] = field(default_factory=dict)  # role -> model
    missing: list[str] = field(default_factory=list)  # roles no installed model plays
    synthetic: bool = False  # the synthetic demo models stand in for real ones

    @property
    def complete(self) -> bool:
        return not self.missing and bool(self.models)

    @property
    def majority_heavy(self) -> ModelVersion | None:
        return self.models.get("majority-heavy")

    def note(self) -> str:
        if self.missing:
            names = ", ".join(f"{r} ({ROLE_NAMES[r]})" for r in self.missing)
            return gettext(
                "No installed model plays this lesson's role(s): %(roles)s. An operator can install the demo "
                "models with `manage.py train_demo_models`, or train one on the Training page."
            ) % {"roles": names}
        if self.synthetic:
            return gettext(
                "Real models are not installed, so this lesson uses the synthetic demo models: generated drawings "
                "in made-up groups (Group A–E), not people and not races. The lesson works the same way."
            )
        return ""


def cast(roles: tuple[str, ...] | list[str], candidates=None) -> Casting:
    """Pick one model per role, all sharing a list of groups; real (non-synthetic) groups first.
    `candidates`: the models the teacher may use (selectors.usable_models).

    Within a list of groups, built-in models (installed by an operator) come before models a
    teacher trained, and newer before older."""
    if candidates is None:
        from ..selectors import usable_models

        candidates = usable_models(None)  # built-in models only
    candidates = sorted(
        candidates.select_related("label_set"),
        key=lambda m: (m.created_by_id is not None, -m.created_at.timestamp(), m.key),
    )
    by_label_set: dict[int, list[ModelVersion]] = {}
    for m in candidates:
        by_label_set.setdefault(m.label_set_id, []).append(m)
    best: Casting | None = None
    for models in by_label_set.values():
        chosen = {}
        for role in roles:
            match = next((m for m in models if plays(m, role) and m not in chosen.values()), None)
            if match is not None:
                chosen[role] = match
        synthetic = models[0].label_set.synthetic
        casting = Casting(models=chosen, missing=[r for r in roles if r not in chosen], synthetic=synthetic)
        rank = (len(casting.missing), synthetic)
        if best is None or rank < (len(best.missing), best.synthetic):
            best = casting
    return best or Casting(missing=list(roles))


def roles_of(models) -> dict[str, str]:
    """For models a teacher picked by hand: which role each plays (first match), as {role: key}."""
    roles = {}
    for m in models:
        for role in ROLE_NAMES:
            if role not in roles and plays(m, role):
                roles[role] = m.key
                break
    return roles


def follow(models, roles: dict[str, str]) -> dict[str, str]:
    """A lesson's roles after the teacher changed the models: a role keeps its model while it is
    still chosen; with none left, the roles are read from the chosen models themselves."""
    chosen = {m.key for m in models}
    return {r: k for r, k in roles.items() if k in chosen} or roles_of(models)


def majority_of(model: ModelVersion | None) -> tuple[str, int]:
    """The over-represented group of a model's training mix and how many times the smallest it had."""
    if model is None or not model.composition:
        return "", 0
    comp = model.composition
    group = max(comp, key=lambda g: comp[g])
    smallest = min(comp.values())
    return group, round(comp[group] / smallest) if smallest else 0
