"""The churn model card's reasons are built in the reader's language from the figures it keeps."""

from django.utils import translation

from health.churn.gate import quality_gate
from health.templatetags.churn import fallback_reason, gate_failure

BACKTEST = {"roc_auc": 0.61, "fallback_roc_auc": 0.60, "brier": 0.25, "brier_base_rate": 0.2, "n_holdout": 40}


def test_each_failed_test_reads_in_english_as_the_gate_wrote_it_and_in_korean():
    card = {"gate": quality_gate(BACKTEST)}
    failed = card["gate"]["failed"]
    assert [failure["test"] for failure in failed] == ["roc_auc", "beats_fallback", "brier"]

    with translation.override("en"):
        assert [gate_failure(card, failure) for failure in failed] == [failure["message"] for failure in failed]
    with translation.override("ko"):
        korean = [gate_failure(card, failure) for failure in failed]
    assert korean[0] == "백테스트 ROC AUC 0.61이(가) 기준 0.65보다 낮습니다."
    assert all("Backtest" not in text for text in korean)


def test_too_few_outcomes_reads_in_the_readers_language():
    card = {"n_outcomes": 12, "n_churned": 3, "fallback_reason": "Only 12 renewal outcomes; at least 30 are needed."}
    with translation.override("ko"):
        assert fallback_reason(card) == "갱신 결과가 12건뿐이라 학습하기에 너무 적습니다."
    with translation.override("en"):
        assert fallback_reason({**card, "n_churned": 0}).startswith("All 12 renewal outcomes are the same")
