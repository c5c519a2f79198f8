"""AI completion without a network: scripted pydantic-ai models, a real lock file."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, ClassVar

import pytest

from pytest_clockwork import (
    BlankResource,
    CompletionError,
    DependencyCycleError,
    DockerResource,
    FileResource,
    LockfileError,
)
from pytest_clockwork.completion.lockfile import Lockfile
from pytest_clockwork.completion.output import output_model
from pytest_clockwork.completion.service import complete_resources
from support.completion import Scripted, catalog, clean_env

SEED_SQL = "CREATE TABLE users (name text);\nINSERT INTO users VALUES ('a'), ('b'), ('c');\n"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_env(monkeypatch)


def seed_answer(fields: list[str], prompt: str, attempt: int) -> dict[str, Any]:
    values = {"name": "seed.sql", "content": SEED_SQL, "directory": "scratch", "mode": "644"}
    return {name: values[name] for name in fields}


def lock_data(root: Path) -> dict[str, Any]:
    return json.loads((root / "clockwork.lock").read_text())


# -- what the model is asked, and what it may change -------------------------------------


def test_output_asks_only_for_the_fields_left_empty() -> None:
    schema = output_model(DockerResource, ["ports", "env_vars"]).model_json_schema()
    assert sorted(schema["properties"]) == ["env_vars", "ports"]
    assert sorted(schema["required"]) == ["env_vars", "ports"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["ports"]["type"] == "array"
    assert "free host port" in schema["properties"]["ports"]["description"]


def test_user_values_are_never_replaced(tmp_path: Path) -> None:
    api = DockerResource(description="the API", image="myapi:dev", env_vars={"MODE": "test"})

    def answer(fields: list[str], prompt: str, attempt: int) -> dict[str, Any]:
        # The model tries to overwrite the user's image (and env vars) every time.
        return {"ports": ["8000"], "image": "nginx:latest", "env_vars": {"MODE": "prod"}}

    scripted = Scripted(answer)
    with pytest.raises(CompletionError) as info:
        complete_resources(catalog(tmp_path, {"api": api}), ["api"], model=scripted.model)
    assert scripted.calls[0].fields == ["ports"]
    assert "image = 'nginx:latest'" in scripted.calls[1].feedback
    assert "given by the developer and fixed" in scripted.calls[1].feedback
    assert "'api'" in str(info.value) and "env_vars" in str(info.value)

    def polite(fields: list[str], prompt: str, attempt: int) -> dict[str, Any]:
        return {"ports": ["8000"]} if attempt > 1 else answer(fields, prompt, attempt)

    scripted = Scripted(polite)
    done = complete_resources(catalog(tmp_path, {"api": api}), ["api"], model=scripted.model)
    assert done["api"].image == "myapi:dev"
    assert done["api"].env_vars == {"MODE": "test"}
    assert done["api"].ports == ["8000"]
    assert lock_data(tmp_path)["resources"]["api"]["values"] == {"ports": ["8000"]}


def test_completed_resource_keeps_its_place_in_the_graph(tmp_path: Path) -> None:
    db = DockerResource(image="postgres:16-alpine", ports=["5432"])
    api = DockerResource(description="the API", image="myapi:dev", ports=["8000"]).connect(db)
    scripted = Scripted(lambda fields, prompt, n: {"env_vars": {"DATABASE_URL": "postgres://db"}})
    done = complete_resources(
        catalog(tmp_path, {"db": db, "api": api}), ["api"], model=scripted.model
    )
    assert done["api"] is not api
    assert done["api"].key == "api"
    assert done["api"].connections == (db,)
    assert done["db"] is db  # nothing to complete: the declaration itself


# -- the safety policy -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"directory": "../elsewhere"}, "outside the rootdir"),
        ({"directory": "/etc"}, "outside the rootdir"),
        ({"directory": ".git/hooks"}, "inside .git/"),
        ({"mode": "777"}, "world-writable"),
        ({"mode": "4755"}, "setuid"),
    ],
)
def test_unsafe_file_proposals_are_rejected_and_retried(
    tmp_path: Path, bad: dict[str, str], reason: str
) -> None:
    seed = FileResource(description="SQL that creates 3 users")

    def answer(fields: list[str], prompt: str, attempt: int) -> dict[str, Any]:
        good = seed_answer(fields, prompt, attempt)
        return {**good, **bad} if attempt == 1 else good

    scripted = Scripted(answer)
    done = complete_resources(catalog(tmp_path, {"seed": seed}), ["seed"], model=scripted.model)
    assert len(scripted.calls) == 2
    assert reason in scripted.calls[1].feedback
    completed = done["seed"]
    assert isinstance(completed, FileResource)
    assert (str(completed.directory), completed.mode) == ("scratch", "0644")


def test_privileged_proposal_is_rejected_and_retried(tmp_path: Path) -> None:
    box = DockerResource(description="a throwaway shell box", image="busybox:1.36")

    def answer(fields: list[str], prompt: str, attempt: int) -> dict[str, Any]:
        values: dict[str, Any] = {"ports": ["8080"], "env_vars": {}}
        return {**values, "privileged": True} if attempt == 1 else values

    scripted = Scripted(answer)
    done = complete_resources(catalog(tmp_path, {"box": box}), ["box"], model=scripted.model)
    assert "privileged" not in scripted.calls[0].fields
    assert "privileged = True" in scripted.calls[1].feedback
    assert "never lets a model set this" in scripted.calls[1].feedback
    assert done["box"].privileged is False  # type: ignore[attr-defined]


def test_a_class_that_makes_privileged_completable_is_refused(tmp_path: Path) -> None:
    class Risky(DockerResource):
        completable: ClassVar[tuple[str, ...]] = (*DockerResource.completable, "privileged")

    risky = Risky(description="anything", image="busybox:1.36")
    scripted = Scripted(lambda fields, prompt, n: {"ports": [], "env_vars": {}})
    with pytest.raises(CompletionError, match="never lets a model set it") as info:
        complete_resources(catalog(tmp_path, {"risky": risky}), ["risky"], model=scripted.model)
    assert "'risky'" in str(info.value) and "Risky" in str(info.value)
    assert scripted.calls == []


def test_low_host_ports_are_rejected(tmp_path: Path) -> None:
    web = DockerResource(description="a web server", image="nginx:alpine")

    def answer(fields: list[str], prompt: str, attempt: int) -> dict[str, Any]:
        return {"ports": ["80:80"] if attempt == 1 else ["80"], "env_vars": {}}

    scripted = Scripted(answer)
    done = complete_resources(catalog(tmp_path, {"web": web}), ["web"], model=scripted.model)
    assert "pins host port 80, below 1024" in scripted.calls[1].feedback
    assert done["web"].ports == ["80"]  # type: ignore[attr-defined]


def test_retry_exhaustion_names_resource_field_and_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CW_COMPLETION_MAX_RETRIES", "2")
    seed = FileResource(description="SQL that creates 3 users")
    scripted = Scripted(lambda fields, prompt, n: {**seed_answer(fields, prompt, n), "mode": "666"})
    with pytest.raises(CompletionError) as info:
        complete_resources(catalog(tmp_path, {"seed": seed}), ["seed"], model=scripted.model)
    message = str(info.value)
    assert len(scripted.calls) == 3
    assert "resource 'seed'" in message
    assert 'mode = "0666"' in message and "world-writable" in message
    assert "rejected 3 times" in message and "Give mode=..." in message
    assert not (tmp_path / "clockwork.lock").exists()


def test_a_proposal_of_the_wrong_type_is_retried_then_named(tmp_path: Path) -> None:
    seed = FileResource(description="SQL that creates 3 users")
    scripted = Scripted(lambda fields, prompt, n: {**seed_answer(fields, prompt, n), "content": 7})
    with pytest.raises(CompletionError) as info:
        complete_resources(catalog(tmp_path, {"seed": seed}), ["seed"], model=scripted.model)
    assert len(scripted.calls) == 4  # the default: 3 retries
    assert "content = 7" in str(info.value)


# -- context: connections and the two phases of composites ----------------------------------


def test_connection_context_is_in_the_prompt(tmp_path: Path) -> None:
    db = DockerResource(description="PostgreSQL for the API", env_vars={"POSTGRES_PASSWORD": "pw"})
    api = DockerResource(description="the API", image="myapi:dev").connect(db)

    def answer(fields: list[str], prompt: str, attempt: int) -> dict[str, Any]:
        if "image" in fields:
            return {"image": "postgres:16-alpine", "ports": ["5432"]}
        return {"ports": ["8000"], "env_vars": {"DATABASE_URL": "postgresql://db:5432"}}

    scripted = Scripted(answer)
    done = complete_resources(
        catalog(tmp_path, {"db": db, "api": api}), ["api"], model=scripted.model
    )
    db_prompt, api_prompt = (call.prompt for call in scripted.calls)
    assert "Resource 'db'" in db_prompt
    # api's completion sees db as completed: its image and ports from the model,
    # its env vars from the user (a secret one only as a reference to it), and the host
    # name it is reached by.
    assert '"image": "postgres:16-alpine"' in api_prompt
    assert '"5432"' in api_prompt
    assert '"POSTGRES_PASSWORD": "${secret:db.env_vars.POSTGRES_PASSWORD}"' in api_prompt
    assert '"pw"' not in api_prompt + db_prompt
    assert '"hostname": "db"' in api_prompt
    assert done["api"].env_vars == {"DATABASE_URL": "postgresql://db:5432"}  # type: ignore[attr-defined]
    assert lock_data(tmp_path)["resources"]["api"]["seen"]["connections"]["db"]["image"] == (
        "postgres:16-alpine"
    )


def test_composites_complete_in_two_phases(tmp_path: Path) -> None:
    web = DockerResource(description="a static web server for the site", ports=["80"]).add(
        FileResource(name="index.html", description="the home page, linking to the menu"),
        FileResource(name="menu.html", description="the menu: three breads"),
    )

    def answer(fields: list[str], prompt: str, attempt: int) -> dict[str, Any]:
        if "image" in fields:
            return {"image": "nginx:1.27-alpine", "env_vars": {}}
        page = "index" if "'web.index.html'" in prompt else "menu"
        return {"content": f"<p>{page}</p>", "directory": "site", "mode": "644"}

    scripted = Scripted(answer)
    done = complete_resources(catalog(tmp_path, {"web": web}), ["web"], model=scripted.model)
    parent, *children = scripted.calls
    # Phase 1: the composite sees its children's descriptions.
    assert "Resource 'web'" in parent.prompt
    assert "the home page, linking to the menu" in parent.prompt
    assert "the menu: three breads" in parent.prompt
    # Phase 2: each child sees the completed composite and its sibling.
    assert sorted(child.fields for child in children) == [["content", "directory", "mode"]] * 2
    for child in children:
        assert '"image": "nginx:1.27-alpine"' in child.prompt
    index = next(c for c in children if "'web.index.html'" in c.prompt)
    assert "the menu: three breads" in index.prompt
    assert done["web.index.html"].content == "<p>index</p>"  # type: ignore[attr-defined]
    entry = lock_data(tmp_path)["resources"]["web.menu.html"]
    assert entry["seen"]["parent"]["image"] == "nginx:1.27-alpine"
    assert "index.html" in entry["seen"]["siblings"]


def test_a_blank_parent_and_sibling_are_shown_to_each_child(tmp_path: Path) -> None:
    app = BlankResource(name="app", description="a bakery website").add(
        FileResource(name="a.txt", content="fixed"),
        FileResource(name="b.txt", description="the opening hours"),
    )
    scripted = Scripted(lambda f, p, n: {"content": "9-17", "directory": "x", "mode": "644"})
    complete_resources(catalog(tmp_path, {"app": app}), ["app"], model=scripted.model)
    (call,) = scripted.calls
    assert "a bakery website" in call.prompt and '"content": "fixed"' in call.prompt


# -- concurrency ------------------------------------------------------------------------------


def test_independent_resources_complete_concurrently_within_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CW_COMPLETION_CONCURRENCY", "2")
    files = {f"f{n}": FileResource(description=f"file number {n}") for n in range(4)}
    scripted = Scripted(seed_answer, gate_at=2)
    done = complete_resources(catalog(tmp_path, dict(files)), list(files), model=scripted.model)
    assert len(done) == 4
    assert scripted.most_in_flight == 2


# -- the lock -------------------------------------------------------------------------------


def test_the_lock_answers_without_a_model(tmp_path: Path) -> None:
    def declare() -> dict[str, Any]:
        return {"seed": FileResource(description="SQL that creates 3 users", directory="db")}

    scripted = Scripted(seed_answer)
    first = complete_resources(catalog(tmp_path, declare()), ["seed"], model=scripted.model)
    text = (tmp_path / "clockwork.lock").read_text()

    later = catalog(tmp_path, declare())
    again = complete_resources(later, ["seed"])  # no model, no key: the lock answers
    assert again["seed"] == first["seed"]
    assert (tmp_path / "clockwork.lock").read_text() == text
    assert later.notes["seed"][:2] == [
        "given by you: directory",
        "completed from clockwork.lock (by model scripted): name, content, mode",
    ]
    assert len(scripted.calls) == 1


def test_the_lock_is_stable_reviewable_json(tmp_path: Path) -> None:
    resources = {
        "zeta": FileResource(description="z"),
        "alpha": FileResource(description="a"),
    }
    complete_resources(
        catalog(tmp_path, resources), ["zeta", "alpha"], model=Scripted(seed_answer).model
    )
    text = (tmp_path / "clockwork.lock").read_text()
    data = json.loads(text)
    assert list(data["resources"]) == ["alpha", "zeta"]
    assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    entry = data["resources"]["alpha"]
    assert sorted(entry) == ["fingerprint", "model", "seen", "values"]
    assert entry["model"] == "scripted"
    assert entry["fingerprint"].startswith("sha256:")


def test_a_changed_declaration_is_not_served_from_a_stale_entry(tmp_path: Path) -> None:
    complete_resources(
        catalog(tmp_path, {"seed": FileResource(description="SQL that creates 3 users")}),
        ["seed"],
        model=Scripted(seed_answer).model,
    )
    changed = {"seed": FileResource(description="SQL that creates 5 users")}
    with pytest.raises(CompletionError) as info:
        complete_resources(catalog(tmp_path, changed), ["seed"])
    message = str(info.value)
    assert "'seed'" in message
    assert 'description: "SQL that creates 3 users" → "SQL that creates 5 users"' in message
    assert "CW_API_KEY" in message

    scripted = Scripted(lambda f, p, n: {**seed_answer(f, p, n), "content": "five"})
    done = complete_resources(catalog(tmp_path, changed), ["seed"], model=scripted.model)
    assert done["seed"].content == "five"  # type: ignore[attr-defined]
    assert "5 users" in scripted.calls[0].prompt


def test_refresh_asks_again_even_when_the_lock_matches(tmp_path: Path) -> None:
    def declare() -> dict[str, Any]:
        return {"seed": FileResource(description="SQL that creates 3 users")}

    complete_resources(catalog(tmp_path, declare()), ["seed"], model=Scripted(seed_answer).model)
    scripted = Scripted(lambda f, p, n: {**seed_answer(f, p, n), "content": "fresh"})
    refreshed = catalog(tmp_path, declare(), refresh=True)
    done = complete_resources(refreshed, ["seed"], model=scripted.model)
    assert len(scripted.calls) == 1
    assert done["seed"].content == "fresh"  # type: ignore[attr-defined]
    assert lock_data(tmp_path)["resources"]["seed"]["values"]["content"] == "fresh"
    assert "now by model scripted (pinned in clockwork.lock)" in refreshed.notes["seed"][0]


@pytest.mark.parametrize(
    ("ci", "lock_option", "asks"),
    [
        ("true", None, False),
        ("1", "update", True),
        (None, "readonly", False),
        (None, None, True),
        ("false", None, True),
    ],
)
def test_ci_makes_the_lock_read_only(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ci: str | None,
    lock_option: str | None,
    asks: bool,
) -> None:
    if ci is not None:
        monkeypatch.setenv("CI", ci)
    scripted = Scripted(seed_answer)
    target = catalog(tmp_path, {"seed": FileResource(description="x")}, lock=lock_option)
    if asks:
        complete_resources(target, ["seed"], model=scripted.model)
        assert len(scripted.calls) == 1
    else:
        with pytest.raises(LockfileError, match="read-only") as info:
            complete_resources(target, ["seed"], model=scripted.model)
        assert "'seed': not in clockwork.lock" in str(info.value)
        assert scripted.calls == []
        assert not (tmp_path / "clockwork.lock").exists()


def test_attaching_works_from_the_lock_only(tmp_path: Path) -> None:
    scripted = Scripted(seed_answer)
    attach = catalog(tmp_path, {"seed": FileResource(description="x")}, apply=False)
    with pytest.raises(LockfileError, match="without --clockwork-apply"):
        complete_resources(attach, ["seed"], model=scripted.model)
    assert scripted.calls == []
    complete_resources(
        catalog(tmp_path, {"seed": FileResource(description="x")}),
        ["seed"],
        model=scripted.model,
    )
    attach = catalog(tmp_path, {"seed": FileResource(description="x")}, apply=False)
    assert complete_resources(attach, ["seed"])["seed"].content == SEED_SQL  # type: ignore[attr-defined]


def test_entries_of_other_resources_stay_in_the_lock(tmp_path: Path) -> None:
    both = {"a": FileResource(description="a"), "b": FileResource(description="b")}
    complete_resources(catalog(tmp_path, both), ["a", "b"], model=Scripted(seed_answer).model)
    before = lock_data(tmp_path)["resources"]["b"]
    only_a = {"a": FileResource(description="a, changed")}
    complete_resources(catalog(tmp_path, only_a), ["a"], model=Scripted(seed_answer).model)
    after = lock_data(tmp_path)["resources"]
    assert after["b"] == before
    assert after["a"]["seen"]["description"] == "a, changed"


def test_a_hand_edited_unsafe_value_in_the_lock_is_refused(tmp_path: Path) -> None:
    def declare() -> dict[str, Any]:
        return {"seed": FileResource(description="x")}

    complete_resources(catalog(tmp_path, declare()), ["seed"], model=Scripted(seed_answer).model)
    data = lock_data(tmp_path)
    data["resources"]["seed"]["values"]["directory"] = "../../outside"
    (tmp_path / "clockwork.lock").write_text(json.dumps(data))
    with pytest.raises(LockfileError, match="safety policy refuses: directory") as info:
        complete_resources(catalog(tmp_path, declare()), ["seed"])
    assert "'seed'" in str(info.value)


def test_a_conflicted_lock_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "clockwork.lock").write_text('{\n<<<<<<< HEAD\n  "version": 1\n}\n')
    with pytest.raises(LockfileError, match="merge conflict"):
        Lockfile(tmp_path).read()


def test_no_key_is_a_clear_error_naming_the_resources(tmp_path: Path) -> None:
    resources = {"a": FileResource(description="a"), "b": FileResource(description="b")}
    with pytest.raises(CompletionError) as info:
        complete_resources(catalog(tmp_path, resources), ["a", "b"])
    message = str(info.value)
    assert "resources 'a', 'b' need AI completion" in message
    assert "no API key is set for https://openrouter.ai/api/v1" in message
    assert "give these fields" in message and "CW_API_KEY" in message
    assert "CW_BASE_URL" in message and "clockwork.lock" in message


def test_nothing_to_complete_needs_no_lock(tmp_path: Path) -> None:
    plain = {"a": FileResource(content="given"), "b": DockerResource(image="busybox:1.36")}
    done = complete_resources(catalog(tmp_path, plain, lock="readonly"), ["a", "b"])
    assert done == plain
    assert not (tmp_path / "clockwork.lock").exists()


def test_concurrent_sessions_complete_a_resource_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sessions (as two xdist workers) miss the lock at once; one asks, one reuses."""
    reads = 0
    enough = threading.Event()
    real_read = Lockfile.read

    def counting_read(self: Lockfile) -> Any:
        nonlocal reads
        reads += 1
        if reads >= 3:  # both first passes, and the first session's read under the guard
            enough.set()
        return real_read(self)

    monkeypatch.setattr(Lockfile, "read", counting_read)

    def answer(fields: list[str], prompt: str, attempt: int) -> dict[str, Any]:
        assert enough.wait(timeout=5), "the second session never missed the lock"
        return seed_answer(fields, prompt, attempt)

    scripted = Scripted(answer)
    results: dict[str, Any] = {}

    def session(name: str) -> None:
        seed = FileResource(description="SQL that creates 3 users")
        target = catalog(tmp_path, {"seed": seed})
        results[name] = complete_resources(target, ["seed"], model=scripted.model)["seed"]

    workers = [threading.Thread(target=session, args=(name,)) for name in ("gw0", "gw1")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=10)
    assert len(scripted.calls) == 1
    assert results["gw0"] == results["gw1"]


def test_cyclic_completions_are_refused(tmp_path: Path) -> None:
    page = FileResource(name="page.html", description="a page")
    web = DockerResource(description="serves the page").add(page)
    web.connect(page)  # web would wait for page, which waits for web (its parent)
    with pytest.raises(DependencyCycleError, match="web → web.page.html → web"):
        complete_resources(
            catalog(tmp_path, {"web": web}), ["web"], model=Scripted(seed_answer).model
        )


def test_which_failures_are_retried() -> None:
    from pydantic_ai.exceptions import (
        ModelAuthenticationError,
        ModelConnectionError,
        ModelHTTPError,
        ModelTimeoutError,
    )

    from pytest_clockwork.completion.agent import _transient

    assert _transient(ModelHTTPError(429, "m"))
    assert _transient(ModelHTTPError(502, "m"))
    assert _transient(ModelTimeoutError("m", "timed out", phase="read"))
    assert _transient(ModelConnectionError("m", "reset", phase="read"))
    assert not _transient(ModelConnectionError("m", "refused", phase="connect"))
    assert not _transient(ModelAuthenticationError("m", "bad key"))
    assert not _transient(ModelHTTPError(400, "m"))


def test_the_lock_holds_in_another_checkout_and_ignores_declaration_order(
    tmp_path: Path,
) -> None:
    def declare(env: dict[str, str]) -> dict[str, Any]:
        return {"api": DockerResource(description="the API", image="myapi:dev", env_vars=env)}

    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()
    scripted = Scripted(lambda fields, prompt, n: {"ports": ["8000"]})
    first = complete_resources(
        catalog(here, declare({"A": "1", "B": "2"})), ["api"], model=scripted.model
    )
    (there / "clockwork.lock").write_bytes((here / "clockwork.lock").read_bytes())
    again = complete_resources(catalog(there, declare({"B": "2", "A": "1"})), ["api"])
    assert again["api"] == first["api"]
    assert len(scripted.calls) == 1
