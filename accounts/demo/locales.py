"""The demo's locales: ``en`` (the default: English names, USD reporting, EUR and USD contracts) and ``ko`` (Korean
company and person names, KRW reporting, KRW and USD contracts, users in Asia/Seoul who read Korean).

A locale changes the words, the currencies, the regions and the people, not the book's shape (segments, renewals,
usage, churn: ``book``); each locale's book is deterministic for a seed. Amounts are drawn in USD and written in a
contract's currency (``DemoLocale.amount``: KRW at ``KRW_PER_USD`` in whole 10,000 won); exchange rates are monthly
and the same for a month whatever the seed (``DemoLocale.rate``: USD per EUR for ``en``, KRW per USD within
1,300-1,450 for ``ko``).
"""

import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from ..models import Activity, Currency
from ..roles import Role
from .cast import DEMO_TEAMS, DEMO_USERS, DemoUser
from .constants import (
    ACTIVITY_SUBJECTS,
    CONTACT_ROLES,
    FIRST_NAMES,
    INDUSTRIES,
    LAST_NAMES,
    NAME_WORDS,
    REGION_SHARES,
    REGIONS,
)

KRW_PER_USD = 1370  # the middle of the Korean demo's exchange rates


@dataclass(frozen=True)
class DemoLocale:
    code: str
    language: str  # User.language of the demo users ("": the browser's, then the workspace's)
    time_zone: str  # User.time_zone of the demo users ("": the workspace's TIME_ZONE)
    reporting_currency: str  # the REPORTING_CURRENCY the book is built for
    home_currency: str  # most contracts' currency
    foreign_currency: str  # the other one, bought in by a share of the accounts of ``foreign_regions``
    foreign_regions: tuple[str, ...]
    foreign_share: float
    region_shares: tuple[float, ...]  # of constants.REGIONS
    cast: tuple[DemoUser, ...]
    teams: tuple[str, ...]
    # Company names: (word, its ASCII spelling for the domain) from each of three lists, the non-empty ones joined
    # by ``name_joiner`` (the domain's by "-").
    name_words: tuple[tuple[tuple[str, str], ...], ...]
    name_joiner: str
    # People: (name, ASCII spelling for the e-mail); ``family_first`` for the order of a full name.
    first_names: tuple[tuple[str, str], ...]
    last_names: tuple[tuple[str, str], ...]
    family_first: bool
    industries: tuple[str, ...]
    region_names: dict[str, str]  # a subsidiary's name: "<parent> <region name>"
    titles: dict[str, tuple[str, ...]]  # by CONTACT_ROLES key
    subjects: dict[str, tuple[str, ...]]  # by Activity.Kind
    qbr_subject: str  # str.format with ``day``

    def person(self, first: tuple[str, str], last: tuple[str, str]) -> str:
        return f"{last[0]}{first[0]}" if self.family_first else f"{first[0]} {last[0]}"

    def amount(self, usd: float, currency: str) -> Decimal:
        """A USD amount drawn by the book, in ``currency`` (KRW in whole 10,000 won, others as they are)."""
        if currency == Currency.KRW:
            return Decimal(round(usd * KRW_PER_USD / 10_000) * 10_000)
        return Decimal(round(usd))

    def rate(self, currency: str, month_index: int) -> Decimal:
        """``reporting_currency`` units per unit of ``currency`` in a month (``ExchangeRate.rate``)."""
        if currency == Currency.EUR:  # USD per EUR: a slow wave with a little noise
            noise = np.random.default_rng(month_index).uniform(-0.008, 0.008)
            rate = min(max(1.085 + 0.03 * math.sin(month_index / 5) + noise, 1.05), 1.12)
            return Decimal(round(rate * 10_000)) / 10_000
        if currency == Currency.USD and self.reporting_currency == Currency.KRW:  # KRW per USD, within 1,300-1,450
            noise = np.random.default_rng(month_index).uniform(-15, 15)
            rate = min(max(KRW_PER_USD + 45 * math.sin(month_index / 7) + noise, 1300), 1450)
            return Decimal(round(rate * 100)) / 100
        raise ValueError(f"The {self.code} demo has no {currency} rate into {self.reporting_currency}.")


def _ascii(words) -> tuple[tuple[str, str], ...]:
    return tuple((word, word.lower()) for word in words)


EN = DemoLocale(
    code="en",
    language="",
    time_zone="",
    reporting_currency=Currency.USD,
    home_currency=Currency.USD,
    foreign_currency=Currency.EUR,
    foreign_regions=("EMEA",),
    foreign_share=0.7,
    region_shares=REGION_SHARES,
    cast=DEMO_USERS,
    teams=DEMO_TEAMS,
    name_words=tuple(_ascii(words) for words in NAME_WORDS),
    name_joiner=" ",
    first_names=_ascii(FIRST_NAMES),
    last_names=_ascii(LAST_NAMES),
    family_first=False,
    industries=INDUSTRIES,
    region_names={region: region for region in REGIONS},
    titles={role: titles for role, (titles, _flags) in CONTACT_ROLES.items()},
    subjects=ACTIVITY_SUBJECTS,
    qbr_subject="Business review {day:%b %Y}",
)

KO = DemoLocale(
    code="ko",
    language="ko",
    time_zone="Asia/Seoul",
    reporting_currency=Currency.KRW,
    home_currency=Currency.KRW,
    foreign_currency=Currency.USD,
    foreign_regions=("NA", "EMEA", "LATAM"),
    foreign_share=0.8,
    region_shares=(0.12, 0.05, 0.8, 0.03),
    cast=(
        DemoUser("admin", "정다은", Role.ADMIN),
        DemoUser("exec", "최은영", Role.EXECUTIVE),
        DemoUser("manager", "박서준", Role.MANAGER, "고객성공 1팀"),
        DemoUser("manager2", "이소연", Role.MANAGER, "고객성공 2팀"),
        DemoUser("csm", "김지현", Role.CSM, "고객성공 1팀"),
        DemoUser("csm2", "윤도현", Role.CSM, "고객성공 1팀"),
        DemoUser("csm3", "한유진", Role.CSM, "고객성공 1팀"),
        DemoUser("csm4", "오민재", Role.CSM, "고객성공 1팀"),
        DemoUser("csm5", "서하은", Role.CSM, "고객성공 2팀"),
        DemoUser("csm6", "강태윤", Role.CSM, "고객성공 2팀"),
        DemoUser("csm7", "임수빈", Role.CSM, "고객성공 2팀"),
        DemoUser("csm8", "조현우", Role.CSM, "고객성공 2팀"),
        DemoUser("ae", "장민호", Role.ACCOUNT_EXECUTIVE),
        DemoUser("ae2", "신예린", Role.ACCOUNT_EXECUTIVE),
        DemoUser("ae3", "권성민", Role.ACCOUNT_EXECUTIVE),
    ),
    teams=("고객성공 1팀", "고객성공 2팀"),
    name_words=(
        (
            ("한빛", "hanbit"),
            ("누리", "nuri"),
            ("대성", "daesung"),
            ("세종", "sejong"),
            ("미래", "mirae"),
            ("한결", "hangyeol"),
            ("푸른", "pureun"),
            ("새롬", "saerom"),
            ("다온", "daon"),
            ("가온", "gaon"),
            ("바른", "bareun"),
            ("참빛", "chambit"),
            ("해솔", "haesol"),
            ("온누리", "onnuri"),
            ("한울", "hanul"),
            ("동해", "donghae"),
            ("태평", "taepyeong"),
            ("신화", "shinhwa"),
            ("보람", "boram"),
            ("늘품", "neulpum"),
            ("솔빛", "solbit"),
            ("이음", "ieum"),
            ("나래", "narae"),
            ("도담", "dodam"),
            ("별빛", "byeolbit"),
            ("청운", "cheongun"),
            ("삼진", "samjin"),
            ("금강", "geumgang"),
            ("백두", "baekdu"),
            ("한강", "hangang"),
            ("으뜸", "eutteum"),
            ("새빛", "saebit"),
            ("우성", "woosung"),
            ("동방", "dongbang"),
            ("창성", "changsung"),
            ("서진", "seojin"),
            ("하람", "haram"),
            ("정우", "jungwoo"),
            ("광명", "gwangmyeong"),
            ("태양", "taeyang"),
        ),
        (
            ("소프트", "soft"),
            ("클라우드", "cloud"),
            ("물산", "trading"),
            ("테크", "tech"),
            ("시스템즈", "systems"),
            ("네트웍스", "networks"),
            ("바이오", "bio"),
            ("로지스", "logis"),
            ("에너지", "energy"),
            ("건설", "construction"),
            ("제약", "pharm"),
            ("식품", "foods"),
            ("유통", "retail"),
            ("캐피탈", "capital"),
            ("미디어", "media"),
            ("에듀", "edu"),
            ("모빌리티", "mobility"),
            ("헬스케어", "healthcare"),
            ("정밀", "precision"),
            ("화학", "chemical"),
            ("통신", "telecom"),
            ("게임즈", "games"),
            ("데이터", "data"),
            ("랩스", "labs"),
            ("페이", "pay"),
            ("보안", "security"),
            ("해운", "shipping"),
            ("리테일", "retailco"),
            ("전자", "electronics"),
            ("인터랙티브", "interactive"),
        ),
        (("", ""), ("그룹", "group"), ("홀딩스", "holdings"), ("코리아", "korea")),
    ),  # fmt: skip
    name_joiner="",
    first_names=(
        ("지현", "jihyun"),
        ("서준", "seojun"),
        ("민준", "minjun"),
        ("서연", "seoyeon"),
        ("하은", "haeun"),
        ("도윤", "doyoon"),
        ("지우", "jiwoo"),
        ("예준", "yejun"),
        ("수빈", "subin"),
        ("현우", "hyunwoo"),
        ("지민", "jimin"),
        ("유진", "yujin"),
        ("은지", "eunji"),
        ("성민", "sungmin"),
        ("혜진", "hyejin"),
        ("동현", "donghyun"),
        ("수진", "sujin"),
        ("준호", "junho"),
        ("민지", "minji"),
        ("재원", "jaewon"),
        ("소연", "soyeon"),
        ("태윤", "taeyoon"),
        ("가은", "gaeun"),
        ("시우", "siwoo"),
        ("다은", "daeun"),
        ("정우", "jungwoo"),
        ("하린", "harin"),
        ("승현", "seunghyun"),
        ("나연", "nayeon"),
        ("우진", "woojin"),
    ),  # fmt: skip
    last_names=(
        ("김", "kim"),
        ("이", "lee"),
        ("박", "park"),
        ("최", "choi"),
        ("정", "jung"),
        ("강", "kang"),
        ("조", "cho"),
        ("윤", "yoon"),
        ("장", "jang"),
        ("임", "lim"),
        ("한", "han"),
        ("오", "oh"),
        ("서", "seo"),
        ("신", "shin"),
        ("권", "kwon"),
        ("황", "hwang"),
        ("안", "ahn"),
        ("송", "song"),
        ("류", "ryu"),
        ("홍", "hong"),
    ),  # fmt: skip
    family_first=True,
    industries=(
        "소프트웨어",
        "금융",
        "헬스케어",
        "제조",
        "유통",
        "교육",
        "미디어",
        "물류",
        "에너지",
        "공공",
        "통신",
        "전문 서비스",
    ),  # fmt: skip
    region_names={"NA": "미주법인", "EMEA": "유럽법인", "APAC": "아태법인", "LATAM": "중남미법인"},
    titles={
        "champion": ("운영팀장", "데이터분석 파트장", "프로덕트 운영 리드"),
        "sponsor": ("운영총괄 상무", "최고운영책임자(COO)", "CTO", "재무담당 상무"),
        "decision": ("IT팀장", "구매팀장", "IT 매니저"),
        "billing": ("재무 매니저", "회계 담당 대리"),
        "end_user": ("데이터 분석가", "운영 분석 담당", "프로젝트 매니저", "팀장", "비즈니스 분석가"),
    },
    subjects={
        Activity.Kind.CALL: ("정기 점검 통화", "도입 현황 리뷰", "갱신 준비 통화", "이슈 후속 통화"),
        Activity.Kind.MEETING: ("성공 계획 리뷰", "방문 워크숍", "경영진 얼라인먼트 미팅", "사용자 교육"),
        Activity.Kind.EMAIL: ("도입 현황 리포트 공유", "웨비나 초대", "갱신 견적 발송", "신규 기능 소개"),
        Activity.Kind.NOTE: ("챔피언 부서 이동 예정", "다음 분기 예산 검토", "SSO 도입 문의", "사용량 감소 확인"),
    },
    qbr_subject="분기 비즈니스 리뷰 {day.year}년 {day.month}월",
)

LOCALES = {locale.code: locale for locale in (EN, KO)}
