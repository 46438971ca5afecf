"""The demo cast: one user per role (CSMs and managers in two teams), all with the one demo password."""

from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from ..models import Team, User
from ..roles import Role

DEMO_PASSWORD = "demo"  # noqa: S105 (the documented password of the demo users)
DEMO_EMAIL_DOMAIN = "demo.example.com"


class DemoUserConflict(Exception):
    """A user has a demo username but was not made by the demo loader."""


@dataclass(frozen=True)
class DemoUser:
    username: str
    name: str
    role: Role
    team: str = ""


DEMO_USERS = (
    DemoUser("admin", "Dana Whitfield", Role.ADMIN),
    DemoUser("exec", "Evelyn Cho", Role.EXECUTIVE),
    DemoUser("manager", "Marcus Reed", Role.MANAGER, "Team North"),
    DemoUser("manager2", "Sofia Lindqvist", Role.MANAGER, "Team South"),
    DemoUser("csm", "Casey Nguyen", Role.CSM, "Team North"),
    DemoUser("csm2", "Jordan Patel", Role.CSM, "Team North"),
    DemoUser("csm3", "Riley Okafor", Role.CSM, "Team North"),
    DemoUser("csm4", "Sam Fischer", Role.CSM, "Team North"),
    DemoUser("csm5", "Taylor Brooks", Role.CSM, "Team South"),
    DemoUser("csm6", "Morgan Silva", Role.CSM, "Team South"),
    DemoUser("csm7", "Jamie Novak", Role.CSM, "Team South"),
    DemoUser("csm8", "Priya Raman", Role.CSM, "Team South"),
    DemoUser("ae", "Alex Turner", Role.ACCOUNT_EXECUTIVE),
    DemoUser("ae2", "Chris Moreau", Role.ACCOUNT_EXECUTIVE),
    DemoUser("ae3", "Lena Hoffmann", Role.ACCOUNT_EXECUTIVE),
)
DEMO_TEAMS = ("Team North", "Team South")


def demo_users():
    usernames = [u.username for u in DEMO_USERS]
    return User.objects.filter(username__in=usernames, email__endswith=f"@{DEMO_EMAIL_DOMAIN}")


def users_create(
    *, cast: tuple[DemoUser, ...] = DEMO_USERS, language: str = "", time_zone: str = ""
) -> dict[str, User]:
    """The demo cast with the one password hash (hashed once), its groups and two teams; with ``language`` and
    ``time_zone`` (else the defaults: the browser's language, the workspace's zone). A name without a space is
    written family name first (Korean: 김지현) and kept whole as the first name, which ``get_full_name`` shows as
    is."""
    taken = sorted(User.objects.filter(username__in=[u.username for u in cast]).values_list("username", flat=True))
    if taken:
        raise DemoUserConflict(
            f"Users {', '.join(taken)} already exist and were not made by the demo loader; rename them first."
        )
    groups = Group.objects.in_bulk([u.role.value for u in cast], field_name="name")
    teams = {name: Team.objects.get_or_create(name=name)[0] for name in dict.fromkeys(u.team for u in cast if u.team)}
    password = make_password(DEMO_PASSWORD)
    zone = {"time_zone": time_zone} if time_zone else {}
    users = User.objects.bulk_create(
        User(
            username=u.username,
            first_name=u.name.partition(" ")[0],
            last_name=u.name.partition(" ")[2],
            email=f"{u.username}@{DEMO_EMAIL_DOMAIN}",
            password=password,
            is_staff=u.role == Role.ADMIN,
            is_superuser=u.role == Role.ADMIN,
            team=teams.get(u.team),
            language=language,
            **zone,
        )
        for u in cast
    )
    User.groups.through.objects.bulk_create(
        User.groups.through(user_id=user.pk, group_id=groups[u.role.value].pk)
        for user, u in zip(users, cast, strict=True)
    )
    for user, u in zip(users, cast, strict=True):
        if u.role == Role.MANAGER:
            Team.objects.filter(pk=teams[u.team].pk).update(manager=user)
    return {user.username: user for user in users}
