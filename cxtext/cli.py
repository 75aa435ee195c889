"""The command line: parse, configure, delegate, exit codes. Nothing here computes anything."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import CxTextError

EXIT_OK, EXIT_INPUT, EXIT_INTERNAL = 0, 2, 1


def _label(args) -> None:
    from .batch import label_file

    summary = label_file(args.input, args.output, text_col=args.text_col, id_col=args.id_col,
                         customer_col=args.customer_col, time_col=args.time_col, model=args.model,
                         jobs=args.jobs, quiet=args.quiet, engine=args.engine, input_encoding=args.input_encoding,
                         input_sep=args.input_sep, encoding=args.output_encoding, sep=args.output_sep,
                         sheet=args.sheet, keep_raw_text=args.keep_raw_text, explain=args.explain)
    if not args.quiet:
        print(json.dumps(summary, ensure_ascii=False, default=str))


def _train(args) -> None:
    import warnings

    from .card import make_card
    from .io import read_table
    from .persist import check_model_dir, save
    from .taxonomy import load_taxonomy
    from .train import LabelColumns, default_corpus, read_corpus, train

    check_model_dir(args.output)  # before the training, not after it
    source = Path(args.data)
    frame = read_corpus(source) if source.is_dir() or source.suffix == ".jsonl" else read_table(source)
    frame.attrs["source"] = source.name  # label errors name the file
    cols = LabelColumns(args.text_col, args.group_col, args.topics_col, args.general_col, args.repeat_col)
    eval_sets = {}
    for spec in args.eval or []:
        name, _, file = spec.partition("=")
        if not Path(file).exists():
            print(f"skipping evaluation set {name}: {file} not found", file=sys.stderr)
            continue
        eval_sets[name] = read_corpus(file) if file.endswith(".jsonl") else read_table(file)
        eval_sets[name].attrs["source"] = Path(file).name
    taxonomy = load_taxonomy(args.taxonomy)
    background = default_corpus(taxonomy) if args.with_default_corpus else None
    extra = f" + {len(background):,} of the default corpus" if background is not None else ""
    cost = "the default corpus, ~38,000 texts, takes ~8 minutes on 2 cores" if background is not None else \
        "a few thousand rows take seconds to a minute"
    print(f"training on {len(frame):,} rows of {source.name}{extra}: 5 cross-validation folds, "
          f"then the final fit ({cost})...", file=sys.stderr, flush=True)
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        model, metrics = train(frame, cols, taxonomy=taxonomy, holdout=args.holdout, eval_sets=eval_sets,
                               background=background, checked_only=args.checked_only)
    note = f"trained from {source.name}" + (f" and {metrics['background_rows']} rows of the default corpus"
                                            if background is not None else "")
    project = source.name == "corpus" and (source.parent / "taxonomy.yaml").exists()  # a model's own corpus/
    save(model, args.output, make_card(model, metrics, data_note=note, project_corpus=project))
    if metrics["unlabelled_rows"]:
        print(f"{metrics['unlabelled_rows']} row(s) left out: without a group (not labelled yet), or not marked checked with --checked-only", file=sys.stderr)
    _print_metrics(metrics)
    print(f"model written to {args.output}")


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    import warnings

    from .train import ThinLabelsWarning, UnlabelledWarning

    if issubclass(category, (ThinLabelsWarning, UnlabelledWarning)):  # meant for people: no file and line of code
        print(f"cxtext: warning: {message}", file=sys.stderr)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def _print_metrics(metrics: dict) -> None:
    from .evaluate import format_metrics

    for name, value in metrics.items():
        if isinstance(value, dict) and "group_accuracy" in value:
            print(f"== {name} ==\n{format_metrics(value)}\n")


def _evaluate(args) -> None:
    import warnings

    from .classify import load_model
    from .errors import InputError
    from .io import read_table
    from .labels_io import UNKNOWN_TOPIC, LabelFileError
    from .train import LabelColumns, evaluate_model, read_corpus

    if args.json and not Path(args.json).resolve().parent.is_dir():  # before the work, not after it
        raise InputError(f"--json {args.json}: the folder {Path(args.json).resolve().parent} does not exist; "
                         "create it or write the metrics elsewhere")
    model = load_model(args.model)
    frame = read_corpus(args.data) if str(args.data).endswith(".jsonl") else read_table(args.data)
    frame.attrs["source"] = Path(args.data).name  # label errors name the file
    cols = LabelColumns(args.text_col, args.group_col, args.topics_col, args.general_col, args.repeat_col)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            metrics = evaluate_model(model, frame, cols, taxonomy=args.taxonomy, checked_only=args.checked_only)
    except LabelFileError as exc:
        if args.model is None and any(p.kind == UNKNOWN_TOPIC for p in exc.problems):
            raise InputError(f"{exc}\nNo --model was given, so the labels were read with the default model's "
                             "taxonomy: for a model trained with topics of your own, pass --model DIR, its folder.") from exc
        raise
    _print_metrics({"evaluation": metrics})
    if args.json:
        Path(args.json).write_text(json.dumps(metrics, ensure_ascii=False, indent=1), encoding="utf-8")


def _report(args) -> None:
    from .io import read_table
    from .report import make_report

    volume = read_table(args.volume) if args.volume else None
    summary = make_report(read_table(args.labelled), args.output, score_col=args.score_col,
                          scale=args.scale, text_col=args.text_col, period_col=args.period_col,
                          segment_col=args.segment_col, volume=volume, contacts=args.contacts)
    for warning in summary["warnings"]:
        print(f"cxtext: warning: {warning}", file=sys.stderr)
    print(json.dumps(summary, ensure_ascii=False, default=str))


def _serve(args) -> None:
    try:
        import uvicorn  # noqa: F401

        from .service import serve
    except ModuleNotFoundError as exc:  # fastapi, pydantic or uvicorn: the [service] extra
        from .errors import InputError

        raise InputError(f"cxtext serve needs the service extra ({exc.name} is not installed): "
                         "pip install 'cxtext[service]', or from a checkout pip install '.[service]'") from exc

    serve(model_path=args.model, host=args.host, port=args.port, workers=args.workers,
          access_log=args.access_log)


def _demo(args) -> None:
    from .demo import run_demo

    run_demo(args.out)


def _checked_only(p) -> None:
    p.add_argument("--checked-only", action="store_true",
                   help="only the rows marked «Проверено» = да (a checking file whose other rows hold the model's "
                        "guesses)")


def _label_columns(p: argparse.ArgumentParser) -> None:
    # the defaults also find the columns write_labels writes: Текст, Группа, Темы, Слишком общий, Повтор
    p.add_argument("--text-col", default="text")
    p.add_argument("--group-col", default="group", help="group ids or names (Жалоба)")
    p.add_argument("--topics-col", default="topics", help="topic ids or names, joined by ';'")
    p.add_argument("--general-col", default="is_general", help="да/нет, true/false, 1/0")
    p.add_argument("--repeat-col", default=None)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cxtext", description="Russian customer feedback: label, train, "
                                     "evaluate, report, serve.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("label", help="label a CSV/XLSX/Parquet file")
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--text-col", required=True)
    p.add_argument("--id-col")
    p.add_argument("--customer-col")
    p.add_argument("--time-col")
    p.add_argument("--model", help="model directory (default: the model shipped with cxtext)")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--engine", choices=["local", "spark"], default="local")
    p.add_argument("--keep-raw-text", action="store_true",
                   help="write the text column as it came, personal data unmasked (default: masked)")
    p.add_argument("--explain", action="store_true",
                   help="add a column 'evidence': the words behind each row's group and topics (costs about one "
                        "extra prediction per distinct word of a text)")
    p.add_argument("--input-encoding", help="a CSV input's encoding, e.g. cp1251 (default: detected)")
    p.add_argument("--input-sep", help="a CSV input's delimiter: ',', ';' or tab (default: detected)")
    p.add_argument("--sheet", help="an .xlsx input's sheet (default: the first)")
    p.add_argument("--output-encoding", help="a CSV output's encoding (default: the input's, or utf-8)")
    p.add_argument("--output-sep", help="a CSV output's delimiter (default: the input's, or ',')")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_label)

    p = sub.add_parser("train", help="train a model on labelled data")
    p.add_argument("data", help="labelled CSV/XLSX/Parquet, a .jsonl file or a folder of .jsonl")
    p.add_argument("-o", "--output", required=True, help="model directory to write")
    _label_columns(p)
    p.add_argument("--taxonomy", help="taxonomy YAML (default: the cxtext default taxonomy)")
    p.add_argument("--with-default-corpus", action="store_true",
                   help="train on the default model's corpus too (your label wins where a text is in both)")
    p.add_argument("--holdout", type=float, default=0.15, help="share kept aside and never trained on")
    p.add_argument("--eval", action="append", metavar="NAME=FILE", help="extra labelled set to measure on")
    _checked_only(p)
    p.set_defaults(func=_train)

    p = sub.add_parser("evaluate", help="measure a model on labelled data")
    p.add_argument("data")
    p.add_argument("--model")
    _label_columns(p)
    p.add_argument("--taxonomy", help="taxonomy YAML the labels are named in (default: the model's)")
    p.add_argument("--json", help="write the metrics as JSON here")
    _checked_only(p)
    p.set_defaults(func=_evaluate)

    p = sub.add_parser("report", help="driver report (Excel and/or HTML) from a labelled file")
    p.add_argument("labelled")
    p.add_argument("-o", "--output", action="append", required=True, help=".xlsx or .html; repeat for both")
    p.add_argument("--score-col", required=True)
    p.add_argument("--scale", choices=["nps", "csi", "csat", "ces", "ces7"], default="nps",
                   help="nps 0-10; csi/csat 1-5; ces 1-5; ces7 1-7")
    p.add_argument("--text-col", help="the comments, for the report's examples (default: a column named text, if "
                                       "any; without one the report has no examples)")
    p.add_argument("--period-col")
    p.add_argument("--segment-col")
    p.add_argument("--volume", help="CSV/XLSX with period and volume columns, for contact rate (implies --contacts)")
    p.add_argument("--contacts", action="store_true",
                   help="each row is a CRM contact (with a post-contact score): give points and cost per group")
    p.set_defaults(func=_report)

    p = sub.add_parser("serve", help="HTTP service for CRM tickets")
    p.add_argument("--model")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--access-log", action="store_true", help="log every request (off: it costs ~10%% per ticket)")
    p.set_defaults(func=_serve)

    p = sub.add_parser("demo", help="label the bundled sample survey and write both reports")
    p.add_argument("--out", default="out", help="folder for the demo outputs")
    p.set_defaults(func=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except CxTextError as exc:
        print(f"cxtext: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("cxtext: interrupted; no partial output was left behind", file=sys.stderr)
        return 130
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
