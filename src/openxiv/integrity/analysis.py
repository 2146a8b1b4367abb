"""Stages 2 (content rules) to 5 (risk) over a format-neutral view of a document.

Extraction (PDF or source) produces `Segment`s: hidden text with the reasons it is hidden,
visible text per page, and document-level text (metadata, annotations, attachments). Every check
scores what it finds from 0 to 1; the risk is the probability that at least one finding is an
attack, 1 - prod(1 - score), and a version is flagged at `settings.flag_threshold`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from openxiv.integrity.classifier import InjectionClassifier, default_classifier
from openxiv.integrity.errors import CheckFailures
from openxiv.integrity.lexicon import (
    STRENGTH,
    addressed_instruction,
    addresses_reader,
    favourable_outcome,
    instruction,
    lexicon_hits,
)
from openxiv.integrity.schemas import VISIBLE_CATEGORIES, Action, Category, Finding, Judge
from openxiv.integrity.settings import IntegritySettings
from openxiv.integrity.textscan import (
    decode_runs,
    detect_language,
    fold_for_matching,
    invisible_payloads,
    rot13,
    split_sentences,
    strip_invisible,
)
from openxiv.integrity.visibility import FIGURE_RESIDUE

# How much concealment alone says, before the hidden text is read. Hiding a word or two happens in
# ordinary papers (stray white spaces, tiny labels); hiding prose does not.
CONCEALMENT_BASE = {
    Category.WHITE_TEXT: 0.25,
    Category.SMALL_TEXT: 0.2,
    Category.INVISIBLE_RENDER: 0.25,
    Category.OFF_PAGE: 0.25,
    Category.HIDDEN_LAYER: 0.25,
}
ADDRESSED_INSTRUCTION = 0.8  # concealed text that tells a model or reviewer what to do
REPORT_MIN_SCORE = 0.05  # weaker findings are dropped from the report
CATEGORY_MIN_SCORE = 0.3  # a category is listed when one of its findings reaches this

# Words about judging a paper, in the languages of the lexicon: only sentences with one of them
# go to the classifier (the rest of a paper cannot ask for a favourable review).
_EVALUATIVE = re.compile(
    r"review|referee|assess|evaluat|rating|rate\b|score|accept|publish|publication|verdict|recommend|merit|"
    r"criticism|weakness|limitation|instruction|prompt|ignore|disregard|language model|llm|\bai\b|assistant|"
    r"gutacht|bewert|annahme|anweisung|évalu|relecteur|accept|instruction|revis|evalua|acept|instrucc|"
    r"рецензи|оцен|принят|инструкц|указани|审稿|评审|评价|评分|接收|录用|指令|指示|査読|評価|採択|指示|"
    r"심사|평가|채택|지시|지침|점수|리뷰|무시|논문|忽略|无视|论文|满分|高分|無視|論文|игнор|забуд|стать|vergiss|oubli|olvid|"
    r"ignor|forget|overlook|praise|flawless|landmark|scrutiny|outcome|endorse|manuscri|publi|merece|valora|mérit|"
    r"рукопис|публик|录用|发表|评估|掲載|게재|원고",
    re.IGNORECASE,
)


@dataclass
class Segment:
    text: str
    page: int | None = None
    box: list[float] | None = None
    location: str = "body"
    hidden: list[tuple[Category, str]] = field(default_factory=list)


@dataclass
class DocumentView:
    kind: str  # pdf | markdown | latex | text
    page_count: int
    visible_pages: list[str]  # what a reader sees, per page (one entry for sources)
    full_pages: list[str]  # everything extractable, per page
    hidden: list[Segment] = field(default_factory=list)
    document_level: list[Segment] = field(default_factory=list)  # metadata, annotations, attachments
    structural: list[Finding] = field(default_factory=list)  # fonts, scripts: scored by extraction
    drawn: list[tuple[int, str]] = field(default_factory=list)  # (page, text a lying font shows)


@dataclass
class ContentVerdict:
    score: float  # 0..1 that the text instructs a reviewer or model
    evidence: str
    language: str
    lexicon: bool


class ContentScorer:
    """Lexicon + local classifier over sentences, cached per sentence."""

    def __init__(self, classifier: InjectionClassifier | None, threshold: float = 0.5) -> None:
        self.classifier = classifier
        # The classifier ships with thresholds calibrated on real papers: a strict one for text a
        # reader sees, a lower one for concealed text, where instructions are far more likely.
        # The setting only applies to a classifier that carries none.
        self.threshold = float(getattr(classifier, "threshold", None) or threshold)
        self.threshold_concealed = float(getattr(classifier, "threshold_concealed", None) or self.threshold)
        self._cache: dict[str, float] = {}

    def calibrated(self, p: float, *, concealed: bool = False) -> float:
        """A probability mapped so that the calibrated threshold sits at 0.5: above it the text is
        instruction-like (0.5-1); below it never more than 0.3, which alone holds nothing."""
        t = min(max(self.threshold_concealed if concealed else self.threshold, 1e-6), 1 - 1e-6)
        return 0.5 + 0.5 * (p - t) / (1 - t) if p >= t else 0.3 * p / t

    def probabilities(self, sentences: list[str]) -> list[float]:
        if self.classifier is None:
            return [0.0] * len(sentences)
        todo = [s for s in dict.fromkeys(sentences) if s not in self._cache]
        for sentence, p in zip(todo, self.classifier.predict(todo), strict=True):
            self._cache[sentence] = p
        return [self._cache[s] for s in sentences]

    def score(self, text: str, *, concealed: bool, drafts: bool = False) -> ContentVerdict:
        """How instruction-like `text` is. Concealed text is trusted less: a lexicon hit is enough,
        whereas visible text (which may quote an attack to discuss it) needs the classifier.
        `drafts` (source comments, full of an author's own set-aside prose) keeps the lexicon and
        the addressed-instruction rule but holds the classifier to its strict threshold."""
        text = strip_invisible(text).strip()
        if not text:
            return ContentVerdict(0.0, "", "other", False)
        folded = fold_for_matching(text)
        hits = lexicon_hits(folded)
        sentences = split_sentences(text)[:200]
        if concealed and 0 < len(text) <= 600:
            sentences.append(" ".join(text.split()))  # prompts are often split across spans
        elif not concealed:
            sentences = [s for s in sentences if _EVALUATIVE.search(s)]
        probs = [
            self.calibrated(p, concealed=concealed and not drafts) for p in self.probabilities(sentences)
        ]
        best_p, best_s = max(zip(probs, sentences, strict=True), default=(0.0, ""))
        language = detect_language(best_s or text)
        lex = max((STRENGTH[h.kind] for h in hits), default=0.0)
        addressed = addressed_instruction(folded) if concealed else None
        if concealed:
            score = max(best_p, lex, ADDRESSED_INSTRUCTION if addressed else 0.0)
        else:
            # A lexicon phrase in visible text counts when the classifier agrees it is addressed
            # to the reader rather than quoted.
            score = best_p if best_p >= 0.5 or not hits else max(best_p, lex * best_p * 1.5)
        if hits and (concealed or score >= 0.5):
            hit = max(hits, key=lambda h: STRENGTH[h.kind])
            evidence = f"{hit.kind.replace('_', ' ')} phrase ({hit.language}): {hit.phrase[:80]!r}"
        elif addressed and best_p < ADDRESSED_INSTRUCTION:
            evidence = f"an instruction addressed to a model or reviewer: {addressed[:100]!r}"
        elif best_s:
            evidence = f"classifier score {best_p:.2f}: {best_s[:100]!r}"
        else:
            evidence = ""
        return ContentVerdict(min(score, 1.0), evidence, language, bool(hits))


def incomplete_finding(check: str, page: int | None, reason: str) -> Finding:
    """A check that could not run is reported, never skipped in silence; alone it is a note."""
    return Finding(
        category=Category.SCAN_INCOMPLETE,
        score=0.3,
        page=page,
        location="scan",
        evidence=f"the {check} check could not run ({reason}); the other checks decided",
    )


def _union(boxes: list[list[float]]) -> list[float] | None:
    boxes = [b for b in boxes if b]
    if not boxes:
        return None
    return [
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    ]


def _snippet(text: str, limit: int = 500) -> str:
    text = " ".join(strip_invisible(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Analyzer:
    def __init__(self, settings: IntegritySettings, classifier: InjectionClassifier | None = None) -> None:
        self.settings = settings
        self.scorer = ContentScorer(
            classifier if classifier is not None else default_classifier(), settings.classifier_threshold
        )
        self.findings: list[Finding] = []
        self.main_language = "en"

    def add(self, finding: Finding) -> None:
        if finding.score >= REPORT_MIN_SCORE:
            self.findings.append(finding)

    def run(self, view: DocumentView) -> list[Finding]:
        checks = CheckFailures()
        with checks.guard("language"):
            self.main_language = _main_language("\n".join(view.visible_pages))
        with checks.guard("hidden text"):
            self._hidden_text(view)
        with checks.guard("visible text"):
            self._visible_text(view)
        with checks.guard("characters and encodings"):
            self._characters_and_encodings(view)
        with checks.guard("metadata and annotations"):
            self._document_level(view)
        for finding in view.structural:
            self.add(finding)
        for check, page, reason in checks.failures:
            self.add(incomplete_finding(check, page, reason))
        return self.findings

    # -- hidden text, aggregated per page and per reason ----------------------------------------

    def _hidden_text(self, view: DocumentView) -> None:
        groups: dict[tuple[int | None, Category], list[tuple[Segment, str]]] = {}
        for seg in view.hidden:
            for category, evidence in seg.hidden:
                groups.setdefault((seg.page, category), []).append((seg, evidence))
        for (page, category), members in groups.items():
            text = " ".join(seg.text for seg, _ in members)
            letters = sum(ch.isalpha() for ch in text)
            unreadable = sum(_unreadable(ch) for ch in text)
            if unreadable >= 10 and unreadable > letters:
                # Glyphs without a character map (CJK drawn as boxes): neither a reader nor a text
                # pipeline can read them, so nobody can say what they instruct. Worth a look.
                self.add(
                    Finding(
                        category=category,
                        score=0.35,
                        page=page,
                        box=_union([seg.box for seg, _ in members if seg.box]),
                        text=_snippet(text),
                        evidence=f"{members[0][1]}; {unreadable} of its characters have no readable text",
                    )
                )
                continue
            if letters == 0:
                continue
            residue = all(evidence.startswith(FIGURE_RESIDUE) for _, evidence in members)
            drafts = all("comment" in evidence for _, evidence in members)
            verdict = self.scorer.score(text, concealed=not residue, drafts=drafts)
            base = CONCEALMENT_BASE.get(category, 0.2)
            if letters < 12:
                base = 0.02
            elif letters < 40:
                base *= 0.5
            # Concealment alone stays under the notable score; it takes instruction-like content
            # (a lexicon phrase or the classifier over its threshold) to make a finding.
            score = (
                min(1.0, base + 0.8 * verdict.score) if verdict.score >= 0.5 else base * (0.5 + verdict.score)
            )
            evidence = members[0][1]
            if len(members) > 1:
                evidence += f" (+{len(members) - 1} more spans)"
            if verdict.evidence and verdict.score >= 0.3:
                evidence += f"; content: {verdict.evidence}"
            self.add(
                Finding(
                    category=category,
                    score=round(score, 4),
                    page=page,
                    box=_union([seg.box for seg, _ in members if seg.box]),
                    location=members[0][0].location,
                    text=_snippet(text),
                    evidence=evidence,
                )
            )
            self._foreign(
                verdict, text, page, _union([seg.box for seg, _ in members if seg.box]), concealed=True
            )

    def _foreign(
        self,
        verdict: ContentVerdict,
        text: str,
        page: int | None,
        box: list[float] | None,
        *,
        concealed: bool,
    ) -> None:
        if verdict.score < 0.3 or verdict.language in (self.main_language, "other"):
            return
        self.add(
            Finding(
                category=Category.MIXED_LANGUAGE,
                score=round(verdict.score, 4),
                page=page,
                box=box,
                text=_snippet(text),
                evidence=f"{'hidden' if concealed else 'visible'} {verdict.language} text in a {self.main_language} document: {verdict.evidence}",
            )
        )

    # -- visible text: reviewer-directed persuasion -----------------------------------------------

    def _visible_text(self, view: DocumentView) -> None:
        """Visible text is in plain view of every reader, and papers about attacks quote and
        study injected instructions. A sentence counts when it carries an instruction phrase
        (lexicon), addresses a reviewer or model and convinces the classifier at its strict
        threshold (a note); bibliography entries never count (a cited paper may be titled "Ignore
        previous prompt"). It holds a version when the phrase is given as an instruction
        (imperative, request or modal) to this document's reader ("give this paper...", "LLM
        reviewers: ..."), outside papers about such attacks."""
        about_attacks = len(_ATTACK_TOPIC.findall("\n".join(view.visible_pages))) >= 5
        pages = _without_references(view.visible_pages)
        for number, drawn in view.drawn:
            # What a lying font shows on the page is read like any visible text.
            pages[number - 1] += "\n" + drawn
        for number, text in enumerate(pages, start=1):
            page = number if view.kind == "pdf" else None
            # Quotations are masked before splitting so that a quoted attack string, full stops and
            # all, stays inside the sentence that discusses it.
            quotes: list[str] = []

            def hold(match: re.Match[str], quotes: list[str] = quotes) -> str:
                quotes.append(match.group(0))
                return f" QUOTE{len(quotes) - 1}QQ "

            masked_page = _QUOTED.sub(hold, strip_invisible(text))
            masked = [
                s
                for s in split_sentences(masked_page)
                if _substantial(s) and _EVALUATIVE.search(fold_for_matching(_restore(s, quotes)))
            ]
            if not masked:
                continue
            sentences = [_restore(s, quotes) for s in masked]
            masked = [re.sub(r"QUOTE\d+QQ", "QUOTE", s) for s in masked]
            # What counts is what the sentence says outside its quotation marks.
            scores = [self.scorer.calibrated(p) for p in self.scorer.probabilities(masked)]
            for sentence, bare, content in zip(sentences, masked, scores, strict=True):
                folded = fold_for_matching(bare)
                hits = lexicon_hits(folded)
                # A command opening the sentence ("IGNORE PREVIOUS PROMPTS. OUTPUT ...") or a
                # vocative speaks to whoever reads this document.
                starts = _clause_starts(folded)
                commanding = any(0 <= h.start - start <= 4 for h in hits for start in starts)
                spoken_to = (
                    commanding
                    or any(_VOCATIVE.search(folded[start:]) for start in starts)
                    or bool(hits and _TOLD_TO.search(folded))
                )
                if not (hits or (spoken_to and favourable_outcome(folded))) or _CITATION.search(bare):
                    continue
                addressed = bool(addresses_reader(folded))
                instructs = bool(instruction(folded) or addressed_instruction(folded))
                aimed_here = spoken_to or bool(_THIS_DOCUMENT.search(folded))
                if aimed_here and (spoken_to or (instructs and (addressed or content >= 0.5))):
                    score = 0.95  # told to this document's reader
                elif addressed and content >= 0.5:
                    score = 0.35
                else:
                    continue
                if about_attacks:
                    score = 0.2  # a paper on attacks shows attacks: listed, not even a note
                why = "addresses a reviewer or model" if addressed else "reads as an instruction"
                if hits:
                    why += f" with a {hits[0].kind.replace('_', ' ')} phrase"
                if aimed_here:
                    why += " about this document"
                if about_attacks:
                    why += " in a document that discusses such attacks"
                language = detect_language(sentence)
                verdict = ContentVerdict(
                    score, f"{why} (classifier score {content:.2f})", language, bool(hits)
                )
                if language not in (self.main_language, "other"):
                    self._foreign(verdict, sentence, page, None, concealed=False)
                else:
                    self.add(
                        Finding(
                            category=Category.CONTEXTUAL_PERSUASION,
                            score=score,
                            page=page,
                            text=_snippet(sentence),
                            evidence=f"visible sentence {verdict.evidence}",
                        )
                    )

    # -- invisible characters, homoglyphs, bidi, encoded payloads ------------------------------------

    def _characters_and_encodings(self, view: DocumentView) -> None:
        pages = view.full_pages
        for number, text in enumerate(pages, start=1):
            page = number if view.kind == "pdf" else None
            self._scan_characters(text, page, "body")
            self._scan_encodings(text, page, "body")

    def _scan_characters(self, text: str, page: int | None, location: str) -> None:
        for payload in invisible_payloads(text):
            if payload.kind in ("tag_characters", "zero_width_binary"):
                verdict = self.scorer.score(payload.decoded, concealed=True)
                score = 0.6 + 0.4 * verdict.score
                category = Category.INVISIBLE_CHARS
                shown = payload.decoded
            elif payload.kind == "zero_width_inside_words":
                verdict = self.scorer.score(_around_invisible(text), concealed=True)
                score = min(0.2, 0.02 * payload.count) + 0.8 * verdict.score
                category = Category.INVISIBLE_CHARS
                shown = _around_invisible(text)
            elif payload.kind == "bidi_override":
                verdict = self.scorer.score(payload.decoded, concealed=True)
                score = 0.3 + 0.7 * verdict.score
                category = Category.HOMOGLYPH_BIDI
                shown = payload.decoded
            else:  # homoglyphs
                words_text = _around_mixed(text)
                verdict = self.scorer.score(words_text, concealed=True)
                score = min(0.25, 0.03 * payload.count) + 0.75 * verdict.score
                if location == "body":
                    # Look-alike letters read the same to a person: on the page they dodge word
                    # filters but hide nothing, so they weigh like other visible text.
                    score = min(score, 0.35)
                category = Category.HOMOGLYPH_BIDI
                shown = words_text
            evidence = payload.evidence
            if verdict.score >= 0.3:
                evidence += f"; decoded content: {verdict.evidence}"
            self.add(
                Finding(
                    category=category,
                    score=round(min(score, 1.0), 4),
                    page=page,
                    location=location,
                    text=_snippet(shown),
                    evidence=evidence,
                )
            )

    def _scan_encodings(self, text: str, page: int | None, location: str) -> None:
        for run in decode_runs(text):
            verdict = self.scorer.score(run.decoded, concealed=True)
            score = 0.05 + 0.9 * verdict.score
            evidence = f"{run.encoding} run decodes to readable text"
            if verdict.score >= 0.3:
                evidence += f": {verdict.evidence}"
            self.add(
                Finding(
                    category=Category.ENCODED,
                    score=round(score, 4),
                    page=page,
                    location=location,
                    text=_snippet(run.decoded),
                    evidence=evidence,
                )
            )
        folded = fold_for_matching(text)
        if lexicon_hits(fold_for_matching(rot13(folded))):
            for sentence in split_sentences(text):
                plain = rot13(sentence)
                if lexicon_hits(fold_for_matching(plain)) and not lexicon_hits(fold_for_matching(sentence)):
                    verdict = self.scorer.score(plain, concealed=True)
                    self.add(
                        Finding(
                            category=Category.ENCODED,
                            score=round(0.05 + 0.9 * verdict.score, 4),
                            page=page,
                            location=location,
                            text=_snippet(plain),
                            evidence=f"ROT13 text decodes to an instruction: {verdict.evidence}",
                        )
                    )

    # -- metadata, annotations, attachments ----------------------------------------------------------

    def _document_level(self, view: DocumentView) -> None:
        visible_words = set(_WORD.findall(fold_for_matching("\n".join(view.visible_pages))))
        for seg in view.document_level:
            text = seg.text
            if seg.location.startswith("metadata"):
                # A title, author list or keywords restated from the page are what metadata is for.
                text = "\n".join(line for line in text.splitlines() if not _restated(line, visible_words))
            if not text.strip():
                continue
            category = seg.hidden[0][0] if seg.hidden else Category.METADATA
            reason = seg.hidden[0][1] if seg.hidden else seg.location
            verdict = self.scorer.score(text, concealed=True)
            base = 0.1 if category == Category.ANNOTATION and "hidden" in reason else 0.0
            score = (
                min(1.0, base + 0.95 * verdict.score) if verdict.score >= 0.5 else base + 0.5 * verdict.score
            )
            evidence = reason + (f"; content: {verdict.evidence}" if verdict.score >= 0.3 else "")
            self.add(
                Finding(
                    category=category,
                    score=round(score, 4),
                    page=seg.page,
                    box=seg.box,
                    location=seg.location,
                    text=_snippet(text),
                    evidence=evidence,
                )
            )
            self._foreign(verdict, text, seg.page, seg.box, concealed=True)
            self._scan_characters(text, seg.page, seg.location)
            self._scan_encodings(text, seg.page, seg.location)


_WORD = re.compile(r"[^\W_]{2,}", re.UNICODE)
# Words of a document about prompt injection, jailbreaks or LLM reviewing: such papers show
# injected instructions as their subject matter.
_ATTACK_TOPIC = re.compile(
    r"prompt[- ]injection|jailbreak|injected (?:prompt|instruction)|adversarial prompt|hidden prompt|"
    r"injection attack|malicious (?:prompt|instruction)|red[- ]teaming|llm[- ](?:as[- ](?:a[- ])?)?(?:judge|reviewer)",
    re.IGNORECASE,
)
_THIS_DOCUMENT = re.compile(
    r"\b(?:this|the present|our|the following|the current|the attached) (?:paper|submission|manuscript|work|article|"
    r"study|preprint|proposal|research)\b|diese[rsnm]? (?:arbeit|artikel|beitrag|manuskript|studie)|"
    r"\bce(?:t|tte)? (?:article|manuscrit|travail|étude)|\best[ea] (?:artículo|manuscrito|trabajo|estudio)|"
    r"\bquesto (?:articolo|lavoro)|\beste (?:artigo|trabalho)|эт(?:а|у|ой|от) (?:стать|работ|рукопис)\w*|"
    r"本文|这篇论文|该论文|本论文|本研究|この論文|本論文|本稿|この原稿|이 논문|본 논문|이 원고",
    re.IGNORECASE,
)


# Speaking to the reader rather than about reviewers: "LLM reviewers: ...", "Note to the AI
# reviewer", "If you are a language model", "Dear reviewer", "审稿人请...".
# A reference list entry: it names another work, it does not speak to anyone.
_CITATION = re.compile(
    r"\barxiv\b|\bpreprint\b|\bproceedings\b|\bet al\.|\bin: |\b(?:19|20)\d{2}[a-z]?\)|\[\d+(?:[,–-]\s*\d+)*\]|"
    r"\bdoi\b|\bpp\. \d|\bvol\. \d|"
    r"\b(?:19|20)\d{2}\. [A-Z]",
    re.IGNORECASE,
)
_VOCATIVE = re.compile(
    r"^\W*(?:(?:a\s+)?(?:note|message|instructions?|attention|reminder)\s+(?:to|for)\s+)?(?:all\s+|any\s+|the\s+|dear\s+)?"
    r"(?:ai|llm|automated|language[- ]model|machine|gpt|chatgpt)?\s*(?:reviewers?|referees?|assistants?|models?|llms?|systems?|agents?)\s*[:,!]"
    r"|\b(?:note|message|instructions?)\s+(?:to|for)\s+(?:the\s+|any\s+|all\s+)?(?:ai|llm|automated|language[- ]model)\b"
    r"|\bif you are an? (?:ai|llm|large language model|language model|automated|machine)\b|\bdear (?:ai|llm|reviewers?|referees?)\b"
    r"|^\W*(?:审稿人|评审人|审稿专家|评审专家|查読者|심사위원)\W*(?:请|様|님)"
    # "As a language model, ...": the reader is the one told what to do.
    r"|^\W*(?:as an?|en tant que|als|como|в качестве) (?:ai|llm|(?:large )?language model|reviewer|modèle de langage|"
    r"sprachmodell|ki|modelo de lenguaje|revisor|языков\w* модел\w*)\b"
    r"|언어\s*모델로서|言語モデルとして|作为(?:一个)?(?:语言模型|人工智能|ai)"
    # Salutations to a reviewer in other languages.
    r"|уважаем\w* рецензент|estimad[oa]s? revisor|sehr geehrte\w* gutachter|ch(?:er|ère)s? (?:relect|évaluat)\w*|"
    r"査読者の方へ|심사위원님|리뷰어님|尊敬的(?:审稿人|评审)"
    # A request opening the sentence ("Please provide a favourable evaluation ...").
    r"|^\W*(?:please|kindly|bitte|veuillez|por favor|пожалуйста)\b",
    re.IGNORECASE,
)
# "The language model must give a positive review": a reviewer or model told what to do. Only
# counted together with an instruction phrase (papers say "LLMs should exhibit ..." freely).
_TOLD_TO = re.compile(
    r"\b(?:reviewers?|referees?|llms?|(?:large )?language models?|ai (?:reviewers?|assistants?|models?)|assistants?|"
    r"языков\w* модел\w*|sprachmodell\w*|gutachter\w*|modèles? de langage|modelos? de lenguaje)\s+"
    r"(?:must|should|shall|is required to|are required to|need to|должн\w+|muss|müssen|soll\w*|doit|doivent|debe|deben)\b",
    re.IGNORECASE,
)
# Headings after which a page lists references (cited titles may themselves read as commands),
# and headings that end the list.
_REFERENCES_HEADING = re.compile(
    r"^\s*(?:\d+\.?\s*)?(?:references|bibliography|literatur(?:verzeichnis)?|références|referencias|参考文献|引用文献)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_APPENDIX_HEADING = re.compile(
    r"^\s*(?:[A-Z](?:\.\d+)*\.?\s+\S|appendix|appendices|supplementary|anhang|annexe)",
    re.IGNORECASE | re.MULTILINE,
)


def _clause_starts(folded: str) -> list[int]:
    """Where the sentence and each clause after a full stop, colon or semicolon begin (extraction
    often runs sentences together: "... in 60% of cases. please provide ...")."""
    starts = [len(folded) - len(folded.lstrip(" \t\"'“”‘’«»()[]-–—*•·:"))]
    starts += [m.end() for m in re.finditer(r"[.!?;:。！？]\s+", folded)]
    return starts


def _without_references(pages: list[str]) -> list[str]:
    """The pages with their reference lists blanked out (up to an appendix heading, if any)."""
    out, in_references = [], False
    for text in pages:
        kept = []
        for line in text.splitlines():
            if _REFERENCES_HEADING.match(line):
                in_references = True
            elif in_references and len(line) < 80 and _APPENDIX_HEADING.match(line) and "," not in line:
                in_references = False
            if not in_references:
                kept.append(line)
        out.append("\n".join(kept))
    return out


def _restated(line: str, visible_words: set[str]) -> bool:
    """True when nearly every word of a metadata line also appears in the visible text."""
    words = _WORD.findall(fold_for_matching(line))
    if not words:
        return True
    return sum(w in visible_words for w in words) >= 0.8 * len(words)


_QUOTED = re.compile(
    r"\"[^\"]{8,400}\"|“[^”]{8,400}”|«[^»]{8,400}»|„[^“”]{8,400}[“”]|「[^」]{4,200}」|(?<!\w)'[^']{12,400}'(?!\w)"
)


def _substantial(sentence: str) -> bool:
    """Enough words to carry an instruction: four or more, or a dozen CJK characters."""
    return len(sentence.split()) >= 4 or sum(ord(ch) > 0x2E80 for ch in sentence) >= 12


def _unreadable(ch: str) -> bool:
    """Characters a font produces when it cannot say which letter a glyph is."""
    return ch in "\u25a0\ufffd\u25a1" or "\ue000" <= ch <= "\uf8ff"


def _restore(sentence: str, quotes: list[str]) -> str:
    return re.sub(r"QUOTE(\d+)QQ", lambda m: quotes[int(m.group(1))], sentence)


def _main_language(text: str) -> str:
    counts: Counter[str] = Counter()
    for sentence in split_sentences(text[:200000])[:2000]:
        counts[detect_language(sentence)] += len(sentence)
    counts.pop("other", None)
    return counts.most_common(1)[0][0] if counts else "en"


def _around_invisible(text: str) -> str:
    """The sentences that contain zero-width characters, with those characters removed."""
    pieces = [
        s
        for s in re.split(r"(?<=[.!?。])\s+|\n", text)
        if re.search(r"[\u200b\u200c\u200d\u2060\ufeff\u00ad]", s)
    ]
    return strip_invisible(" ".join(pieces))[:2000]


def _around_mixed(text: str) -> str:
    from openxiv.integrity.textscan import mixed_script_words

    words = set(mixed_script_words(text))
    pieces = [s for s in re.split(r"(?<=[.!?。])\s+|\n", text) if any(w in s for w in words)]
    return " ".join(pieces)[:2000]


def apply_judge(findings: list[Finding], judge: Judge, settings: IntegritySettings) -> bool:
    """Ask the LLM judge about the uncertain findings that carry text; returns True if it was asked."""
    candidates = [f for f in findings if f.text and 0.2 <= f.score < 0.95]
    candidates.sort(key=lambda f: -f.score)
    candidates = candidates[: settings.judge_max_candidates]
    if not candidates:
        return False
    verdicts = judge([f.text for f in candidates])
    if len(verdicts) != len(candidates):
        raise ValueError(f"the judge returned {len(verdicts)} verdicts for {len(candidates)} passages")
    for finding, verdict in zip(candidates, verdicts, strict=True):
        if verdict.is_injection:
            finding.score = round(max(finding.score, verdict.confidence), 4)
        else:
            finding.score = round(finding.score * (1 - 0.7 * verdict.confidence), 4)
        finding.evidence += (
            f"; LLM judge: {'injection' if verdict.is_injection else 'benign'} ({verdict.confidence:.2f})"
        )
    return True


NOTABLE_SCORE = 0.3  # findings from here on are shown to the author and count towards the risk
VISIBLE_HOLD_SCORE = 0.9  # a visible sentence scores this only when told to this document's reader


def risk(findings: list[Finding]) -> float:
    """Noisy-OR over the strongest finding of each category; findings under `NOTABLE_SCORE` (such
    as concealment with harmless content) do not add up."""
    best: dict[Category, float] = {}
    for f in findings:
        best[f.category] = max(best.get(f.category, 0.0), f.score)
    remaining = 1.0
    for score in best.values():
        if score >= NOTABLE_SCORE:
            remaining *= 1.0 - score
    return round(1.0 - remaining, 4)


def decide(findings: list[Finding], settings: IntegritySettings) -> Action:
    """Hold when concealed or document-level content is instruction-like enough, or a visible
    instruction is aimed at this document's reviewers; note anything else worth a look."""
    concealed = [f for f in findings if f.category not in VISIBLE_CATEGORIES | {Category.SCAN_INCOMPLETE}]
    visible = [f.score for f in findings if f.category in VISIBLE_CATEGORIES]
    if risk(concealed) >= settings.flag_threshold or max(visible, default=0.0) >= VISIBLE_HOLD_SCORE:
        return Action.HOLD
    if any(f.score >= NOTABLE_SCORE for f in findings):
        return Action.NOTE
    return Action.PASS


def categories(findings: list[Finding]) -> list[Category]:
    seen = {f.category for f in findings if f.score >= CATEGORY_MIN_SCORE}
    return [c for c in Category if c in seen]
