from __future__ import annotations

import math
from pathlib import Path

import keras_tuner as kt
import numpy as np
import pytest

from search.errors import SpaceError
from search.experiments import get
from search.space import (
    Bool,
    Choice,
    Condition,
    Fixed,
    Float,
    Int,
    Space,
    define,
    load_space,
    parse_fix,
    parse_space,
    space_from_dict,
    space_from_hyperparameters,
)

VALID = """
description = "demo"

[learning_rate]
type = "float"
low = 1e-4
high = 1e-1
log = true
default = 1e-3

[units]
type = "int"
low = 32
high = 128
step = 32
default = 64

[augment]
type = "bool"
default = false

[shift]
type = "float"
low = 0.0
high = 0.2
default = 0.1
condition = { augment = true }

[mode]
type = "choice"
values = ["scale", "standardize"]
default = "scale"

[epochs]
type = "fixed"
value = 3
"""


def test_parses_every_type_in_order() -> None:
    space = parse_space(VALID, source="demo.toml")
    assert space.names == ["learning_rate", "units", "augment", "shift", "mode", "epochs"]
    assert space.description == "demo"
    lr = space["learning_rate"]
    assert isinstance(lr, Float) and lr.log and (lr.low, lr.high, lr.default) == (1e-4, 0.1, 1e-3)
    assert isinstance(space["units"], Int) and space["units"].step == 32
    assert isinstance(space["augment"], Bool)
    assert isinstance(space["mode"], Choice) and space["mode"].values == ("scale", "standardize")
    assert isinstance(space["epochs"], Fixed) and space["epochs"].default == 3
    cond = space["shift"].condition
    assert cond is not None and (cond.parent, cond.values) == ("augment", (True,))


def test_defaults_leave_out_inactive_conditionals() -> None:
    space = parse_space(VALID)
    defaults = space.defaults()
    assert "shift" not in defaults
    assert defaults["units"] == 64
    assert space.resolve({**defaults, "augment": True, "shift": 0.1})["shift"] == 0.1


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            '[learning_rate]\ntype = "float"\nlow = 0.5\nhigh = 0.1\ndefault = 0.2',
            "s.toml: learning_rate: low (0.5) must be below high (0.1)",
        ),
        ('[x]\ntype = "float"\nlow = 0.0\nhigh = 1.0\ndefault = 2.0', "x: default (2.0) must be in [0, 1]"),
        ('[x]\ntype = "choice"\nvalues = [1, 2]\ndefault = 3', "x: default (3) must be one of 1, 2"),
        ('[x]\ntype = "bool"\ndefault = 1', "x: default (1) must be true or false"),
        ('[x]\ntype = "float"\nlow = 0.0\nhigh = 1.0\nlog = true\ndefault = 0.5', "above 0"),
        ('[x]\ntype = "int"\nlow = 1\nhigh = 10\nstep = 4\ndefault = 1', "multiple of step"),
        (  # passed, then Optuna listed every value and each trial's tensor overflowed
            '[x]\ntype = "int"\nlow = 1\nhigh = 100000000000000000000\ndefault = 1',
            "x: high (100000000000000000000) must be within ±9223372036854775807 (2**63 - 1): a 64-bit"
            " integer, as NumPy and the backends hold one",
        ),
        ('[x]\ntype = "int"\nlow = -10000000000000000000\nhigh = 1\ndefault = 1', "low (-1000"),
        (
            '[x]\ntype = "float"\nlow = 0.0\nhigh = 1.0\nstep = 0.3\ndefault = 0.3',
            "x: high - low (1) must be a multiple of step (0.3)",
        ),
        ('[x]\ntype = "float"\nlow = 0.0\nhigh = 1.0\nstep = 5.0\ndefault = 0.0', "multiple of step (5)"),
        ('[x]\ntype = "float"\nlow = 0.0\nhigh = 1.0\nstep = 0.25\ndefault = 0.3', "x: default (0.3)"),
        (
            '[x]\ntype = "int"\nlow = 1\nhigh = 64\nlog = true\nstep = 8\ndefault = 8',
            "x: step (8) cannot be combined with a log scale",
        ),
        (
            '[x]\ntype = "float"\nlow = -1e308\nhigh = 1e308\ndefault = 0.0',
            "x: low (-1e+308) and high (1e+308) are too far apart: high - low overflows a float;"
            " narrow the range",
        ),
        (
            '[x]\ntype = "choice"\nvalues = [nan, 0.01]\ndefault = 0.01',
            "x: values ([nan, 0.01]) must be numbers, not nan; remove nan",
        ),
        ('[x]\ntype = "fixed"\nvalue = nan', "x: value (nan) must be a number, not nan; give the value"),
        ('[x]\ntype = "real"\ndefault = 1', "x: type ('real') must be one of"),
        ('[x]\ntype = "int"\nlow = 1\nhgh = 3\ndefault = 1', "unknown key 'hgh'"),
        ('[x]\ntype = "int"\nmin = 1\nhigh = 3\ndefault = 1', "'min' for an int (low is the key)"),
        ('[x]\ntype = "choice"\nchoices = [1, 2]\ndefault = 1', "'choices' for a choice (values is"),
        ('[x]\ntype = "int"\nlow = 1\nhigh = 3', "x: an int needs a default"),
        ('[x]\ntype = "choice"\nvalues = [1, "a"]\ndefault = 1', "must all have one type"),
        (
            '[x]\ntype = "choice"\nvalues = [1]\ndefault = 1',
            "x: values ([1]) must hold at least two values; for one, write type = \"fixed\" and value = 1",
        ),
        ('[x]\ntype = "choice"\nvalues = []\ndefault = 1', "x: values ([]) must hold at least two values"),
        (
            '[x]\ntype = "choice"\nvalues = [0.001, 1]\ndefault = 1',
            "x: values ([0.001, 1]) mix integers and floats; write the integers as floats (1.0)",
        ),
        (  # passed, then every backend's first build failed with KerasTuner's ValueError
            '[x]\ntype = "choice"\nvalues = ["a", "b"]\nordered = true\ndefault = "a"',
            "x: ordered (true) applies to numbers, not the strings ['a', 'b']; drop ordered",
        ),
        (  # passed, then a trial's value made the run's own trials.json unreadable ("damaged")
            '[x]\ntype = "choice"\nvalues = [1, 100000000000000000000]\ndefault = 1',
            "x: values: 100000000000000000000 must be within ±9223372036854775807 (2**63 - 1)",
        ),
        ('[x]\ntype = "fixed"\nvalue = -10000000000000000000', "x: value (-10000000000000000000) must be"),
        ('x = 3', "x: expected a table"),
        ('[x]\ntype = "bool"\ndefault = true\ncondition = { y = true }', "must be defined above"),
        (
            '[y]\ntype = "bool"\ndefault = true\n[x]\ntype = "bool"\ndefault = true\n'
            'condition = { y = "yes" }',
            "condition value 'yes' is not a value of 'y'",
        ),
        (  # fashion.toml with augment made fixed at false: the children's error said no fix
            '[augment]\ntype = "fixed"\nvalue = false\n[flip]\ntype = "bool"\ndefault = true\n'
            'condition = { augment = true }',
            "flip: condition value True is not a value of 'augment' (fixed at False), so flip is never"
            " active; remove flip from the space, or write value = true in [augment]",
        ),
        (  # 'é' is a letter: the message said letters are allowed
            '["lérning"]\ntype = "bool"\ndefault = true',
            "s.toml: 'lérning': a hyperparameter's name is ASCII letters, digits and '_'",
        ),
        ("[x\n", "s.toml: not valid TOML"),
        ('description = "only"', "defines no hyperparameters"),
    ],
)
def test_invalid_entries_name_file_key_and_value(entry: str, message: str) -> None:
    with pytest.raises(SpaceError) as info:
        parse_space(entry, source="s.toml")
    assert message in str(info.value)
    assert str(info.value).startswith("s.toml")


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SpaceError, match="nope.toml: no such space file"):
        load_space(tmp_path / "nope.toml")


def test_a_file_saved_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    path = tmp_path / "notepad.toml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.encode())
    assert load_space(path).names == parse_space(VALID).names


def test_a_folder_or_undecodable_file_is_named_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(SpaceError) as caught:
        load_space(tmp_path)
    assert str(caught.value) == f"{tmp_path}: a folder, not a space file; give a TOML file"
    binary = tmp_path / "space.toml"
    binary.write_bytes(b"\xff\xfe[lr]\n")
    with pytest.raises(SpaceError) as caught:
        load_space(binary)
    message = str(caught.value)
    assert message.startswith(f"{binary}: not UTF-8 text (")
    assert message.endswith("); save the TOML file as UTF-8") and len(message.splitlines()) == 1


@pytest.mark.parametrize(("error", "fix"), [
    (PermissionError(13, "Permission denied"), "(Permission denied); make it readable (chmod u+r)"),
    (OSError(5, "Input/output error"), "(Input/output error); check the file and its disk, or give another"),
])  # fmt: skip
def test_a_space_file_that_cannot_be_read_is_told_the_fix_for_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: OSError, fix: str
) -> None:
    space = tmp_path / "space.toml"
    space.write_text("")

    def refuse(self: Path, *args: object, **kwargs: object) -> str:
        raise error

    monkeypatch.setattr(Path, "read_text", refuse)
    with pytest.raises(SpaceError) as caught:
        load_space(space)
    assert str(caught.value) == f"{space}: cannot be read {fix}"


def test_define_registers_conditions_with_keras_tuner() -> None:
    space = parse_space(VALID)
    hp = kt.HyperParameters()
    values = define(hp, space)
    assert values == {
        "learning_rate": 1e-3, "units": 64, "augment": False, "mode": "scale", "epochs": 3,
    }  # fmt: skip
    shift = next(p for p in hp.space if p.name == "shift")
    assert shift.conditions and not hp.is_active(shift)
    hp.values.update(augment=True, shift=0.15)  # as an oracle would set them
    assert define(hp, space)["shift"] == 0.15
    assert hp.is_active(shift)


def test_a_choice_of_booleans_gives_keras_tuner_booleans_not_ints() -> None:
    space = parse_space('[augment]\ntype = "choice"\nvalues = [true, false]\ndefault = true\n'
                        '[flip]\ntype = "bool"\ndefault = false\ncondition = { augment = true }\n')
    hp = kt.HyperParameters()
    values = define(hp, space)
    assert values == {"augment": True, "flip": False}
    assert type(values["augment"]) is bool and type(hp.values["augment"]) is bool
    hp.values["augment"] = False  # as an oracle would set it
    assert define(hp, space) == {"augment": False}
    assert {type(hp.space[0].random_sample(seed)) for seed in range(8)} == {bool}


def test_a_keras_tuner_step_becomes_the_values_keras_tuner_samples() -> None:
    """A step that does not divide the range stops at the last step below high; a step on
    a log scale multiplies (KerasTuner's grids), and the space keeps to them."""
    hp = kt.HyperParameters()
    hp.Int("a", 1, 10, step=4)
    hp.Float("b", 0.0, 0.5, step=0.2)
    hp.Int("c", 2, 64, step=2, sampling="log")
    hp.Float("e", 0.001, 1.0, step=10, sampling="log")
    hp.Int("f", 2, 3, step=2, sampling="log")
    hp.Int("g", 1, 3, step=4)
    space = space_from_hyperparameters(hp)
    a, b, c, e = space["a"], space["b"], space["c"], space["e"]
    assert isinstance(a, Int) and (a.low, a.high, a.step) == (1, 9, 4)
    assert isinstance(b, Float) and (b.low, b.high, b.step) == (0.0, 0.4, 0.2)
    assert isinstance(c, Choice) and c.values == (2, 4, 8, 16, 32, 64) and c.ordered and c.default == 2
    assert isinstance(e, Choice) and e.values == (0.001, 0.01, 0.1, 1.0)
    assert space["f"] == Fixed("f", 2) and space["g"] == Fixed("g", 1)
    for param in hp.space:
        assert all(space[param.name].contains(param.random_sample(seed)) for seed in range(40))


NESTED = """
[augment]
type = "bool"
default = false
[flip]
type = "bool"
default = true
condition = { augment = true }
[shift]
type = "float"
low = 0.0
high = 0.1
default = 0.05
condition = { flip = true }
"""


def test_define_nests_the_scopes_of_a_condition_on_a_conditional_parent() -> None:
    space = parse_space(NESTED)
    hp = kt.HyperParameters()
    assert define(hp, space) == {"augment": False}
    shift = next(p for p in hp.space if p.name == "shift")
    assert [c.name for c in shift.conditions] == ["augment", "flip"]
    hp.values.update(augment=True, flip=True, shift=0.02)  # as an oracle would set them
    assert define(hp, space) == {"augment": True, "flip": True, "shift": 0.02}
    hp.values.update(flip=False)
    assert define(hp, space) == {"augment": True, "flip": False}
    assert [p.name for p in hp.space] == ["augment", "flip", "shift"]


def test_fix_replaces_with_fixed_and_checks_range() -> None:
    space = parse_space(VALID).fix({"learning_rate": 0.01})
    assert isinstance(space["learning_rate"], Fixed)
    assert space["learning_rate"].default == 0.01
    with pytest.raises(ValueError, match="outside its range"):
        parse_space(VALID).fix({"learning_rate": 5.0})
    with pytest.raises(ValueError, match="not in the space"):
        parse_space(VALID).fix({"nope": 1})


def test_fix_off_a_floats_step_is_refused() -> None:
    dropout = parse_space('[dropout]\ntype = "float"\nlow = 0.0\nhigh = 0.8\nstep = 0.1\ndefault = 0.3\n')
    assert dropout.fix({"dropout": 0.7})["dropout"].default == 0.7
    with pytest.raises(ValueError, match=r"^dropout: 0.35 is off its step, \[0, 0.8\] \(linear, step 0.1\);"
                       r" the nearest values on it are 0.3 and 0.4$"):  # not 'outside its range'
        dropout.fix({"dropout": 0.35})
    with pytest.raises(ValueError, match=r"^dropout: 0.85 is outside its range"):
        dropout.fix({"dropout": 0.85})
    units = parse_space('[units]\ntype = "int"\nlow = 4\nhigh = 16\nstep = 4\ndefault = 8\n')
    with pytest.raises(ValueError, match=r"^units: 15 is off its step, 4..16 \(step 4, linear\); the nearest"
                       r" values on it are 12 and 16$"):  # fmt: skip
        units.fix({"units": 15})
    big = parse_space('[rows]\ntype = "int"\nlow = 0\nhigh = 3000000\nstep = 1000000\ndefault = 0\n')
    with pytest.raises(ValueError, match=r"are 1000000 and 2000000$"):  # not 1e+06 and 2e+06
        big.fix({"rows": 1500000})


def test_keras_tuner_samples_the_top_of_a_stepped_float_and_the_space_holds_it() -> None:
    """KerasTuner counts a stepped float's values by flooring (high - low) / step: for
    shift [0, 0.15] step 0.05 that is 2.9999999999999996, and 0.15 was never sampled.
    Registered by the space, its grid ends at 0 + 3 * 0.05 = 0.15000000000000002, which
    the space holds (an earlier run's trial with it is still inside for a warm start)."""
    shift = parse_space('[shift]\ntype = "float"\nlow = 0.0\nhigh = 0.15\nstep = 0.05\ndefault = 0.1\n')
    hp = kt.HyperParameters()
    define(hp, shift)
    grid = list(hp.space[0].values)
    assert len(grid) == 4 and grid[-1] == pytest.approx(0.15)
    assert all(shift["shift"].contains(value) for value in grid)
    assert not shift["shift"].contains(0.15 + 1e-6) and not shift["shift"].contains(-1e-6)
    assert not any(shift["shift"].contains(value) for value in (math.inf, -math.inf, math.nan))


def test_a_whole_number_default_of_a_choice_of_floats_is_its_float() -> None:
    """``default = 1`` for values [0.5, 1.0], as a float's default and ``--fix x=1`` are taken:
    it was refused as not one of 0.5, 1.0."""
    param = parse_space('[x]\ntype = "choice"\nvalues = [0.5, 1.0]\ndefault = 1')["x"]
    assert param.default == 1.0 and isinstance(param.default, float)
    with pytest.raises(SpaceError, match=r"default \(True\) must be one of"):
        parse_space('[x]\ntype = "choice"\nvalues = [0.5, 1.0]\ndefault = true')


def test_a_condition_naming_a_whole_number_of_a_choice_of_floats_is_its_float() -> None:
    """``condition = { scale = 1 }`` for values [0.5, 1.0] was refused as not one of them,
    although ``default = 1`` was taken as 1.0; a fixed float parent likewise."""
    child = '[extra]\ntype = "bool"\ndefault = false\ncondition = { scale = 1 }\n'
    space = parse_space('[scale]\ntype = "choice"\nvalues = [0.5, 1.0]\ndefault = 0.5\n' + child)
    assert space["extra"].condition.values == (1.0,) and isinstance(space["extra"].condition.values[0], float)
    assert space.defaults() == {"scale": 0.5} and "extra" in space.fix({"scale": 1.0}).defaults()
    fixed = parse_space('[scale]\ntype = "fixed"\nvalue = 1.0\n' + child)
    assert fixed["extra"].condition.values == (1.0,)
    with pytest.raises(SpaceError, match=r"condition value 2 is not a value of 'scale'"):
        parse_space('[scale]\ntype = "choice"\nvalues = [0.5, 1.0]\ndefault = 0.5\n'
                    + child.replace("scale = 1", "scale = 2"))  # fmt: skip
    with pytest.raises(SpaceError, match=r"condition value True is not a value of 'scale'"):
        parse_space('[scale]\ntype = "choice"\nvalues = [0.5, 1.0]\ndefault = 0.5\n'
                    + child.replace("scale = 1", "scale = true"))  # fmt: skip


def test_a_name_fixed_twice_is_refused_not_silently_the_last() -> None:
    assert parse_fix(["units=64", "augment=true"]) == {"units": 64, "augment": True}
    with pytest.raises(SpaceError) as info:
        parse_fix(["learning_rate=0.01", "units=64", "learning_rate=0.5"])
    assert str(info.value) == "fix: 'learning_rate' given twice (0.01, then 0.5); fix it once"


def test_fix_takes_numpy_values_as_a_trials_table_holds_them() -> None:
    """Tuning in stages from Python: ``fix={"units": run.trials.iloc[0]["hp_units"]}``."""
    space = parse_space(VALID).fix({"units": np.int64(96), "learning_rate": np.float32(0.01),
                                    "augment": np.bool_(True), "mode": np.str_("scale")})  # fmt: skip
    fixed = {name: space[name].default for name in ("units", "learning_rate", "augment", "mode")}
    assert fixed == {"units": 96, "learning_rate": 0.01, "augment": True, "mode": "scale"}  # 0.01 exactly
    assert [type(v) for v in fixed.values()] == [int, float, bool, str]
    # An int column with gaps (a conditional hyperparameter) is float in a pandas table.
    assert parse_space(VALID).fix({"units": np.float64(96.0)})["units"].default == 96
    filters = parse_space('[filters]\ntype = "choice"\nvalues = [16, 32]\ndefault = 16\n')
    assert type(filters.fix({"filters": np.float64(32.0)})["filters"].default) is int


def test_fix_takes_a_whole_number_for_a_choice_of_floats() -> None:
    """--fix scale=1 reads 1 as an int; the choice holds 1.0."""
    space = parse_space('[scale]\ntype = "choice"\nvalues = [0.5, 1.0]\ndefault = 0.5\n')
    fixed = space.fix({"scale": 1})["scale"].default
    assert fixed == 1.0 and type(fixed) is float


def test_fix_of_the_wrong_type_says_so_not_that_it_is_out_of_range() -> None:
    with pytest.raises(ValueError, match=r"learning_rate: '0.01' is a str, not a float in \[0.0001, 0.1\]"):
        parse_space(VALID).fix({"learning_rate": "0.01"})
    with pytest.raises(ValueError, match=r"units: 64.5 is a float, not an int in 32..128"):
        parse_space(VALID).fix({"units": 64.5})
    with pytest.raises(ValueError, match=r"^augment: 1 is an int, not true or false$"):
        parse_space(VALID).fix({"augment": 1})


def test_fix_reads_python_spellings_of_nan_and_inf_as_floats_and_names_nan() -> None:
    fixed = parse_fix(["a=nan", "b=-inf", "c=Infinity", "d=+INF", "e=nano", "f=--inf", "g=+-nan"])
    assert math.isnan(fixed["a"]) and fixed["b"] == fixed["c"] * -1 == -math.inf == -fixed["d"]
    assert (fixed["e"], fixed["f"], fixed["g"]) == ("nano", "--inf", "+-nan")  # text, not an error
    with pytest.raises(ValueError, match=r"^learning_rate: nan is not a number; give a float in \[0.0001,"):
        parse_space(VALID).fix({"learning_rate": float("nan")})
    with pytest.raises(ValueError, match=r"^learning_rate: inf is outside its range"):
        parse_space(VALID).fix({"learning_rate": math.inf})
    with pytest.raises(ValueError, match=r"^augment: nan is a float, not true or false$"):
        parse_space(VALID).fix({"augment": float("nan")})


def test_fingerprint_ignores_help_but_not_ranges() -> None:
    a = parse_space(VALID)
    b = parse_space(VALID.replace('default = 64', 'default = 64\nhelp = "doc"'))
    c = parse_space(VALID.replace("high = 128", "high = 160"))
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


def test_builtin_fashion_space_covers_practice() -> None:
    space = get("fashion").load_space()
    assert space.names[:4] == ["learning_rate", "dense_units", "dropout", "augment"]
    assert {"preprocessing", "filters", "conv_blocks", "batch_size", "shift"} <= set(space.names)
    assert isinstance(space["learning_rate"], Float) and space["learning_rate"].log


def test_unknown_hyperparameter_for_the_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('[momentum]\ntype = "float"\nlow = 0.1\nhigh = 0.9\ndefault = 0.5\n')
    with pytest.raises(SpaceError, match="mine.toml: momentum: not a hyperparameter"):
        get("fashion").load_space(path)


def test_space_rejects_duplicate_names() -> None:
    with pytest.raises(ValueError, match="defined twice"):
        Space((Bool("a", True), Bool("a", False)))


def test_fixing_a_parent_off_drops_its_conditional_children() -> None:
    space = get("fashion").load_space()
    off = space.fix({"augment": False})
    assert "augment" in off and not any(n in off for n in ("flip", "shift", "zoom", "rotation"))
    on = space.fix({"augment": True})
    assert all(n in on for n in ("flip", "shift", "zoom", "rotation"))
    with pytest.raises(ValueError, match="shift: is active only when augment == True") as refused:
        space.fix({"augment": False, "shift": 0.1})
    assert str(refused.value).endswith(  # not "--fix": also fix= from Python
        "which fixing augment to False rules out; leave shift unfixed, or fix augment to a value"
        " that activates it"
    )
    clothing = get("clothing").load_space().fix({"fine_tune_layers": 0})
    assert "fine_tune_learning_rate" not in clothing and "fine_tune_after" not in clothing


def test_fixing_the_child_of_a_dropped_parent_names_the_fixing_that_drops_it() -> None:
    space = Space((Bool("augment", True), Bool("flip", True, condition=Condition("augment", (True,))),
                   Fixed("shift", 0.1, condition=Condition("flip", (True,)))))  # fmt: skip
    with pytest.raises(ValueError) as refused:
        space.fix({"augment": False, "shift": 0.1})
    assert str(refused.value) == (
        "shift: is active only when flip == True, which fixing augment to False rules out (flip is"
        " then never active); leave shift unfixed, or fix augment to a value that activates it"
    )


def test_a_stored_space_whose_condition_names_a_later_entry_is_a_space_error() -> None:
    """A damaged or hand-edited run.json: refused as a space, in one line, like a TOML file."""
    stored = {
        "shift": {"type": "float", "low": 0.0, "high": 0.2, "default": 0.1,
                  "condition": {"augment": [True]}},
        "augment": {"type": "bool", "default": False},
    }  # fmt: skip
    with pytest.raises(SpaceError, match=r"^run.json: shift: condition names 'augment'"):
        space_from_dict(stored)
