"""CSV import on SQLite and PostgreSQL: all rows or none, every problem located, re-import idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from messages.languages import accepted_language_codes
from storage.database import transaction
from storage.imports import ImportRejected, import_cases, import_tenants
from storage.models import Case, CaseKind, CaseStage, Channel, ContactPoint, HouseholdType, Tenant
from tests.storage.snapshots import snapshot

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
LANGUAGES = accepted_language_codes()
TENANT_HEADER = "tenant_ref;name;language;municipality;phone;case_ref;kind;rent_due_date;amount_overdue"


def write(tmp_path: Path, text: str, name: str = "file.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def load_examples(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        import_tenants(session, EXAMPLES / "tenants.csv", LANGUAGES)
        import_cases(session, EXAMPLES / "cases.csv")


def rejected(sessions: sessionmaker[Session], path: Path, kind: str = "tenants") -> list[str]:
    with pytest.raises(ImportRejected) as info, transaction(sessions) as session:
        if kind == "tenants":
            import_tenants(session, path, LANGUAGES)
        else:
            import_cases(session, path)
    return [str(error) for error in info.value.errors]


def test_example_files_import(sessions: sessionmaker[Session]) -> None:
    load_examples(sessions)
    with sessions() as session:
        tenants = session.scalars(select(Tenant)).all()
        assert len(tenants) >= 10
        assert len({tenant.preferred_language for tenant in tenants}) >= 8
        assert len({tenant.municipality_id for tenant in tenants}) >= 5
        ahmad = session.scalars(select(Tenant).where(Tenant.external_ref == "HG-10233")).one()
        assert ahmad.preferred_language == "fa"
        assert ahmad.household_type is HouseholdType.COUPLE_WITH_CHILDREN
        assert [(p.channel, p.address) for p in ahmad.contact_points] == [(Channel.SMS, "+46701740607")]
        notice = session.scalars(select(Case).where(Case.external_ref == "NT-2026-0077")).one()
        assert notice.amount_overdue_ore == 1_784_250
        assert notice.kind is CaseKind.NOTICE and notice.stage is CaseStage.NOTICE_SERVED
        assert str(notice.recovery_deadline) == "2026-12-01"


def test_importing_the_same_files_again_changes_nothing(engine: Engine, sessions) -> None:
    load_examples(sessions)
    before = snapshot(engine)
    with transaction(sessions) as session:
        again = import_tenants(session, EXAMPLES / "tenants.csv", LANGUAGES)
        cases = import_cases(session, EXAMPLES / "cases.csv")
    assert not again.changed and not cases.changed
    assert snapshot(engine) == before


def test_bad_rows_are_all_reported_and_nothing_is_imported(engine: Engine, sessions, tmp_path) -> None:
    lines = (EXAMPLES / "tenants.csv").read_text(encoding="utf-8").splitlines()
    cells = [line.split(";") for line in lines]
    header = cells[0]
    cells[6][header.index("phone")] = "070-12"  # line 7
    cells[8][header.index("amount_overdue")] = "12,3,4"  # line 9
    cells[8][header.index("case_ref")] = "AR-X"
    cells[8][header.index("kind")] = "arrears"
    cells[8][header.index("rent_due_date")] = "2026-11-30"
    path = write(tmp_path, "\n".join(";".join(row) for row in cells) + "\n")
    before = snapshot(engine)
    errors = rejected(sessions, path)
    assert errors == [
        "line 7, column phone: '070-12' is not a valid phone number (write e.g. 070-123 45 67 or +46701234567)",
        "line 9, column amount_overdue: '12,3,4' is not an amount in kronor (write e.g. 1 234,50)",
    ]
    assert snapshot(engine) == before


def test_semicolons_bom_and_swedish_amounts(sessions, tmp_path) -> None:
    text = (
        f"{TENANT_HEADER}\n"
        "A-1;Åsa Öberg;SV;malmö;0701740605;C-1;arrears;2026-11-30;1 234,50\n"
        "A-2;Ali Hassan;ar;1280;+46 70 174 06 06;C-2;arrears;2026-11-30;1\u00a0000\n"
        "A-3;Sara;hr;Lund;;;;;\n"
    )
    with transaction(sessions) as session:
        result = import_tenants(session, write(tmp_path, "\ufeff" + text), LANGUAGES)
    assert result.counts["tenants"]["created"] == 3
    with sessions() as session:
        amounts = dict(session.execute(select(Case.external_ref, Case.amount_overdue_ore)).all())
        languages = dict(session.execute(select(Tenant.external_ref, Tenant.preferred_language)).all())
    assert amounts == {"C-1": 123_450, "C-2": 100_000}
    assert languages == {"A-1": "sv", "A-2": "ar", "A-3": "bs"}


def test_commas_and_quoted_amounts(sessions, tmp_path) -> None:
    text = "tenant_ref,name,language,municipality,case_ref,kind,rent_due_date,amount_overdue\n" \
           'A-1,"Lind, Eva",sv,Lund,C-1,arrears,2026-11-30,"2 500,00"\n'
    with transaction(sessions) as session:
        import_tenants(session, write(tmp_path, text), LANGUAGES)
    with sessions() as session:
        assert session.scalars(select(Tenant.name)).one() == "Lind, Eva"
        assert session.scalars(select(Case.amount_overdue_ore)).one() == 250_000


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("A-1;X;xx;Lund;;;;;", "column language: 'xx' is not a supported language code"),
        ("A-1;X;sv;Atlantis;;;;;", "column municipality: 'Atlantis' is not a known municipality"),
        ("A-1;;sv;Lund;;;;;", "column name: is empty but required"),
        ("A-1;X;sv;Lund;;C-1;arrears;30/11/2026;100", "column rent_due_date: '30/11/2026' is not a date"),
        ("A-1;X;sv;Lund;;C-1;arrears;2026-02-30;100", "'2026-02-30' is not a date in the calendar"),
        ("A-1;X;sv;Lund;;C-1;;;100", "column kind: is empty, but the row has other case columns filled"),
        ("A-1;X;sv;Lund;;C-1;arrears;;100", "column rent_due_date: an arrears case needs the rent due date"),
        ("A-1;X;sv;Lund;;C-1;eviction;2026-11-30;100", "column kind: 'eviction' is not one of"),
        ("A-1;X;sv;Lund;;C-1;arrears;2026-11-30;-5", "is negative"),
        ("A-1;X;sv;Lund", "has 4 values but the header has 9 columns"),
    ],
)
def test_each_kind_of_bad_cell_is_named(sessions, tmp_path, row: str, expected: str) -> None:
    errors = rejected(sessions, write(tmp_path, f"{TENANT_HEADER}\n{row}\n"))
    assert len(errors) == 1
    assert errors[0].startswith("line 2, ")
    assert expected in errors[0]


def test_header_problems(sessions, tmp_path) -> None:
    errors = rejected(sessions, write(tmp_path, "tenant_ref;name;personnummer;colour\nA;B;19900101-1234;red\n"))
    assert any(e.startswith("line 1, column personnummer: Bokvar never stores personnummer") for e in errors)
    assert any(e.startswith("line 1, column colour: unknown column") for e in errors)
    assert any(e.startswith("line 1, column language: required column is missing") for e in errors)


def test_duplicate_references_in_one_file(sessions, tmp_path) -> None:
    text = f"{TENANT_HEADER}\nA-1;X;sv;Lund;;;;;\nA-1;Y;sv;Lund;;;;;\n"
    assert rejected(sessions, write(tmp_path, text)) == ["line 3, column tenant_ref: 'A-1' already appears on line 2"]


def test_not_utf8_is_refused_with_its_line(sessions, tmp_path) -> None:
    path = write(tmp_path, f"{TENANT_HEADER}\nA-1;Åsa;sv;Lund;;;;;\n", encoding="latin-1")
    errors = rejected(sessions, path)
    assert errors == ["line 2, column -: the file is not UTF-8 text; save it as 'CSV UTF-8' and try again"]


def test_line_numbers_count_quoted_line_breaks(sessions, tmp_path) -> None:
    text = f'{TENANT_HEADER}\nA-1;"Eva\nLind";sv;Lund;;;;;\nA-2;X;zz;Lund;;;;;\n'
    errors = rejected(sessions, write(tmp_path, text))
    assert errors == [
        "line 4, column language: 'zz' is not a supported language code "
        "(supported: ar, bs, en, fa, fi, pl, so, sv, ti, tr, uk)"
    ]


def test_reimport_updates_changed_values_and_replaces_a_number(sessions, tmp_path) -> None:
    first = f"{TENANT_HEADER}\nA-1;Eva Lind;sv;Lund;0701740605;C-1;arrears;2026-11-30;100\n"
    second = f"{TENANT_HEADER}\nA-1;Eva Lind;en;Lund;0701740699;C-1;arrears;2026-11-30;250,50\n"
    with transaction(sessions) as session:
        import_tenants(session, write(tmp_path, first, "a.csv"), LANGUAGES)
    with transaction(sessions) as session:
        result = import_tenants(session, write(tmp_path, second, "b.csv"), LANGUAGES)
    assert result.counts == {
        "tenants": {"created": 0, "updated": 1, "unchanged": 0},
        "cases": {"created": 0, "updated": 1, "unchanged": 0},
    }
    with sessions() as session:
        points = session.execute(select(ContactPoint.address, ContactPoint.active)).all()
        assert sorted(points) == [("+46701740605", False), ("+46701740699", True)]
        assert session.scalars(select(Tenant.preferred_language)).one() == "en"
        assert session.scalars(select(Case.amount_overdue_ore)).one() == 25_050


def test_cases_need_known_tenants_and_keep_their_owner(sessions, tmp_path) -> None:
    load_examples(sessions)
    header = "case_ref,tenant_ref,kind,amount_overdue,rent_due_date,notice_served_on"
    text = (
        f"{header}\n"
        "Z-1,NOBODY,arrears,100,2026-11-30,\n"
        "AR-2026-0411,HG-10232,arrears,100,2026-11-30,\n"
        "Z-2,HG-10232,notice,100,2026-11-30,\n"
    )
    errors = rejected(sessions, write(tmp_path, text), kind="cases")
    assert errors == [
        "line 2, column tenant_ref: no tenant 'NOBODY'; import the tenants first",
        "line 3, column case_ref: 'AR-2026-0411' belongs to tenant 'HG-10231'",
        "line 4, column notice_served_on: a notice case needs the date the notice was served",
    ]
