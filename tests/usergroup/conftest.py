import pytest

from accounts.roles import Role
from usergroup.models import Area

from ..conftest import make_user


@pytest.fixture
def area(db):
    return Area.objects.get_or_create(name="Booking site")[0]


@pytest.fixture
def essex_member(essex):
    return make_user("member@essex.test", organisation=essex, role=Role.USERGROUP_MEMBER)


@pytest.fixture
def wales_member(south_wales):
    return make_user("member@south-wales.test", organisation=south_wales,
                     role=Role.USERGROUP_MEMBER)
