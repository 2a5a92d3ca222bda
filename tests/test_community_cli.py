"""``paperwire user create --admin`` and ``paperwire org add-member``."""

from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.community.repository import Community
from paperwire.context import open_store


def test_user_create_admin_and_org_member(settings, monkeypatch):
    monkeypatch.setenv("PAPERWIRE_ARGON2_PROFILE", "CHEAPEST")
    monkeypatch.setenv("PAPERWIRE_SEARCH_INDEX_ON_IMPORT", "0")
    db = settings.resolved_database_url
    run = CliRunner().invoke
    r = run(
        app,
        ["user", "create", "root", "--admin", "--password-stdin", "--db", db],
        input="a long password\n",
    )
    assert r.exit_code == 0, r.output
    r = run(app, ["user", "create", "root", "--password-stdin", "--db", db], input="x" * 9 + "\n")
    assert r.exit_code == 1 and "taken" in r.output
    assert run(app, ["org", "add-member", "acme", "root", "--db", db]).exit_code == 0
    assert run(app, ["org", "add-member", "acme", "nobody", "--db", db]).exit_code == 1
    store = open_store(settings.model_copy(update={"search_index_on_import": False}))
    assert Community.of(store).accounts.user("root").is_admin
    assert Community.of(store).orgs.org_members("acme") == ["root"]
    store.close()
