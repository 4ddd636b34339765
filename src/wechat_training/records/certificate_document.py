"""A certificate as a one-page PDF, Chinese text in an embedded CJK font.

fpdf2 embeds a subset of the TrueType font (only the glyphs used), so the
file shows the Chinese name and title on any machine, with or without CJK
fonts. The font is the one `scripts/setup.sh` installs
(fonts-wqy-microhei); ``WECHAT_TRAINING_CJK_FONT`` points elsewhere (a .ttf,
or a .ttc whose first face has CJK glyphs).
"""

from __future__ import annotations

import os
from pathlib import Path

from .certificates import Certificate, CertificateError, format_code

FONT_VARIABLE = "WECHAT_TRAINING_CJK_FONT"
DEFAULT_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


def font_path() -> Path:
    path = Path(os.environ.get(FONT_VARIABLE) or DEFAULT_FONT)
    if not path.is_file():
        raise CertificateError(
            f"CJK font {path} not found: run scripts/setup.sh (installs fonts-wqy-microhei) "
            f"or set {FONT_VARIABLE} to a .ttf/.ttc with Chinese glyphs"
        )
    return path


def render(certificate: Certificate, code: str, *, issuer: str = "") -> bytes:
    """The PDF bytes of one certificate (A4 landscape, one page)."""
    from fpdf import FPDF  # lazy: keeps `wechat-training --help` instant

    pdf = FPDF(orientation="landscape", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title(f"Certificate {certificate.employee_id} {certificate.module_id}")
    pdf.set_creator("wechat-training")
    pdf.add_font("cjk", fname=str(font_path()))
    pdf.add_page()
    width = pdf.w - 40

    pdf.set_draw_color(150, 30, 30)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    pdf.set_line_width(0.3)
    pdf.rect(14, 14, pdf.w - 28, pdf.h - 28)

    def line(text: str, size: float, height: float, color: tuple[int, int, int] = (20, 20, 20)) -> None:
        pdf.set_font("cjk", size=size)
        pdf.set_text_color(*color)
        pdf.set_x(20)
        pdf.cell(width, height, text, align="C", new_x="LMARGIN", new_y="NEXT")

    pdf.set_y(28)
    line("合规培训证书", 30, 15, (150, 30, 30))
    line("Certificate of Compliance Training", 16, 10, (150, 30, 30))
    pdf.ln(6)
    line("兹证明 This certifies that", 12, 8)
    line(certificate.name, 26, 14)
    line(f"工号 Employee ID: {certificate.employee_id}", 12, 8)
    pdf.ln(4)
    line("已通过企业微信合规培训模块 has passed the WeCom compliance training module", 12, 8)
    line(certificate.title_zh, 20, 11)
    line(certificate.title_en, 14, 9)
    pdf.ln(6)
    until = certificate.valid_until or "长期有效 no expiry"
    details = [
        f"成绩 Score: {certificate.score} / {certificate.max_score}",
        f"通过日期 Passed on: {certificate.passed_on}",
        f"有效期至 Valid until: {until}",
    ]
    line("      ".join(details), 12, 8)
    line(f"内容版本 Content version: {certificate.content_version}", 10, 7, (90, 90, 90))
    pdf.set_y(pdf.h - 46)
    line(f"验证码 Verification code: {format_code(code)}", 14, 9)
    line(f"核验 Verify: wechat-training certificate verify {format_code(code)}", 9, 6, (90, 90, 90))
    if issuer:
        line(issuer, 9, 6, (90, 90, 90))
    return bytes(pdf.output())


def write(certificate: Certificate, code: str, path: Path, *, issuer: str = "") -> Path:
    """Render to `path` atomically (a half-written PDF never appears under the final name)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(render(certificate, code, issuer=issuer))
    os.replace(partial, path)
    return path
