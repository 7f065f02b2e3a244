"""The words a draft prints by itself (captions, references, furniture), in the paper's language."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from paperbuild.pandoc_ast import ENGLISH_QUOTES


@dataclass(frozen=True, kw_only=True)
class Words:
    """Furniture strings for one language; kinds are figure, table, equation, listing, section."""

    kinds: dict[str, tuple[str, str]]  # kind -> (singular, plural), capitalised
    and_: str
    caption_colon: str = ": "
    contents: str = "Contents"
    references: str = "References"
    version: str = "Version"
    page_of: str = "page {page} of {total}"
    not_written: str = "This section has not been written yet."
    figures_list: str = "List of figures"
    tables_list: str = "List of tables"
    commissioned: str = "Commissioned by {who}"
    months: tuple[str, ...] = (
        "January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December",
    )  # fmt: skip
    date_pattern: str = "{day} {month} {year}"
    changes: str = "Changes from {old} to {new}"
    inserted: str = "inserted"
    deleted: str = "deleted"
    quotes: tuple[str, str, str, str] = ENGLISH_QUOTES  # double open, close; single
    callouts: tuple[str, str, str, str, str] = (  # Quarto's callouts' default titles
        "Note", "Tip", "Important", "Warning", "Caution",
    )  # fmt: skip
    nouns_capitalised: bool = False  # a noun keeps its capital mid-sentence (German)

    def callout(self, kind: str) -> str:
        """Return a callout's default title ('Note' for a .callout-note), or '' for no kind."""
        kinds = ("note", "tip", "important", "warning", "caution")
        return self.callouts[kinds.index(kind)] if kind in kinds else ""

    def date(self, when: dt.date) -> str:
        """Return a date as the language writes it ('28 November 2026', '28 de noviembre de…')."""
        month = self.months[when.month - 1]
        return self.date_pattern.format(day=when.day, month=month, year=when.year)

    def page_parts(self) -> tuple[str, str, str]:
        """Return the footer's words around the page number and the page count."""
        before, _, rest = self.page_of.partition("{page}")
        middle, _, after = rest.partition("{total}")
        return before, middle, after

    def list_title(self, kind: str) -> str:
        """Return the title of the list of a kind of float ('List of figures')."""
        return self.figures_list if kind == "figure" else self.tables_list

    def name(self, kind: str, *, plural: bool = False, capital: bool = True) -> str:
        """Return the word for a kind of element (e.g. 'Figure', 'figures'; 'Abbildungen'
        mid-sentence too, where the language capitalises its nouns)."""
        singular, many = self.kinds[kind]
        word = many if plural else singular
        return word if capital or self.nouns_capitalised else word[0].lower() + word[1:]


ENGLISH = Words(
    kinds={
        "figure": ("Figure", "Figures"),
        "table": ("Table", "Tables"),
        "equation": ("Equation", "Equations"),
        "listing": ("Listing", "Listings"),
        "section": ("Section", "Sections"),
    },
    and_="and",
)

LANGUAGES: dict[str, Words] = {
    "en": ENGLISH,
    "fr": Words(
        kinds={
            "figure": ("Figure", "Figures"),
            "table": ("Tableau", "Tableaux"),
            "equation": ("Équation", "Équations"),
            "listing": ("Listing", "Listings"),
            "section": ("Section", "Sections"),
        },
        and_="et",
        caption_colon=" : ",
        contents="Table des matières",
        callouts=("Remarque", "Conseil", "Important", "Avertissement", "Attention"),
        references="Références",
        version="Version",
        page_of="page {page} sur {total}",
        not_written="Cette section n’a pas encore été rédigée.",
        figures_list="Liste des figures",
        tables_list="Liste des tableaux",
        commissioned="Commandé par {who}",
        changes="Modifications de {old} à {new}",
        inserted="ajouté",
        deleted="supprimé",
        months=(
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ),
        date_pattern="{day} {month} {year}",
        quotes=("«\u00a0", "\u00a0»", "“", "”"),
    ),
    "es": Words(
        kinds={
            "figure": ("Figura", "Figuras"),
            "table": ("Tabla", "Tablas"),
            "equation": ("Ecuación", "Ecuaciones"),
            "listing": ("Listado", "Listados"),
            "section": ("Sección", "Secciones"),
        },
        and_="y",
        contents="Índice",
        callouts=("Nota", "Consejo", "Importante", "Advertencia", "Precaución"),
        references="Referencias",
        version="Versión",
        page_of="página {page} de {total}",
        not_written="Esta sección aún no se ha redactado.",
        figures_list="Índice de figuras",
        tables_list="Índice de tablas",
        commissioned="Encargado por {who}",
        changes="Cambios de {old} a {new}",
        inserted="añadido",
        deleted="suprimido",
        months=(
            "enero",
            "febrero",
            "marzo",
            "abril",
            "mayo",
            "junio",
            "julio",
            "agosto",
            "septiembre",
            "octubre",
            "noviembre",
            "diciembre",
        ),
        date_pattern="{day} de {month} de {year}",
        quotes=("«", "»", "“", "”"),
    ),
    "pt": Words(
        kinds={
            "figure": ("Figura", "Figuras"),
            "table": ("Tabela", "Tabelas"),
            "equation": ("Equação", "Equações"),
            "listing": ("Listagem", "Listagens"),
            "section": ("Seção", "Seções"),
        },
        and_="e",
        contents="Sumário",
        callouts=("Nota", "Dica", "Importante", "Aviso", "Cuidado"),
        references="Referências",
        version="Versão",
        page_of="página {page} de {total}",
        not_written="Esta seção ainda não foi escrita.",
        figures_list="Lista de figuras",
        tables_list="Lista de tabelas",
        commissioned="Encomendado por {who}",
        changes="Alterações de {old} para {new}",
        inserted="inserido",
        deleted="removido",
        months=(
            "janeiro",
            "fevereiro",
            "março",
            "abril",
            "maio",
            "junho",
            "julho",
            "agosto",
            "setembro",
            "outubro",
            "novembro",
            "dezembro",
        ),
        date_pattern="{day} de {month} de {year}",
    ),
    "de": Words(
        kinds={
            "figure": ("Abbildung", "Abbildungen"),
            "table": ("Tabelle", "Tabellen"),
            "equation": ("Gleichung", "Gleichungen"),
            "listing": ("Listing", "Listings"),
            "section": ("Abschnitt", "Abschnitte"),
        },
        and_="und",
        nouns_capitalised=True,
        contents="Inhalt",
        callouts=("Hinweis", "Tipp", "Wichtig", "Warnung", "Vorsicht"),
        references="Literatur",
        version="Version",
        page_of="Seite {page} von {total}",
        not_written="Dieser Abschnitt ist noch nicht geschrieben.",
        figures_list="Abbildungsverzeichnis",
        tables_list="Tabellenverzeichnis",
        commissioned="Im Auftrag von {who}",
        changes="Änderungen von {old} zu {new}",
        inserted="eingefügt",
        deleted="gelöscht",
        months=(
            "Januar",
            "Februar",
            "März",
            "April",
            "Mai",
            "Juni",
            "Juli",
            "August",
            "September",
            "Oktober",
            "November",
            "Dezember",
        ),
        date_pattern="{day}. {month} {year}",
        quotes=("„", "“", "‚", "‘"),
    ),
}


def words_for(lang: str) -> Words:
    """Return the furniture strings for a language tag (en-GB, fr-FR, …); English otherwise."""
    return LANGUAGES.get(language_parts(lang)[0], ENGLISH)


# a BCP 47 tag, as far as paperbuild reads one: a language, then a script, a region, variants,
# extensions and a private use part, each optional (`en-GB`, `zh-Hant-TW`, `es-419`, `de-CH-1996`)
LANGUAGE_TAG = re.compile(
    r"[A-Za-z]{2,3}(-[A-Za-z]{4})?(-(?:[A-Za-z]{2}|[0-9]{3}))?(-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"
    r"(-[0-9A-WYZa-wyz](-[A-Za-z0-9]{2,8})+)*(-[Xx](-[A-Za-z0-9]{1,8})+)?"
)


def language_parts(tag: str) -> tuple[str, str]:
    """Return a language tag's language (lower case) and its region ('' for none; upper case,
    two letters, as Typst takes it: `es-419`'s is '')."""
    subtags = tag.split("-")
    for subtag in subtags[1:]:
        if len(subtag) == 1:  # (an extension or private use part: no region after it)
            break
        if len(subtag) == 2 and subtag.isalpha():
            return subtags[0].lower(), subtag.upper()
    return subtags[0].lower(), ""
