"""Snapshot of the compiled graph's mermaid text: its shape changes only on purpose."""

from skillc.skills.skill import Skill


def test_invoice_graph_mermaid(invoice_spec, snapshot):
    assert Skill(invoice_spec).mermaid() == snapshot


def test_ascii_drawing_works_offline(invoice_spec):
    drawing = Skill(invoice_spec).ascii()
    assert "fields" in drawing and "skillc_finish" in drawing
