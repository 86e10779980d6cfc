//! Charts drawn on the server as SVG (no script), each with its figures as a table for screen
//! readers and for copying.

use maud::{Markup, html};

use super::{Lang, number};

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 280.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 72.0;

/// A round step for `ticks` grid lines up to at least `max`.
fn step(max: i64, ticks: i64) -> i64 {
    let raw = (max.max(1) + ticks - 1) / ticks;
    let magnitude = 10_i64.pow((raw as f64).log10().floor().max(0.0) as u32);
    [1, 2, 5, 10]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(raw)
}

/// Vertical bars, one per label; `id` names the chart for its title.
pub fn bars(id: &str, title: &str, labels: &[String], values: &[i64], unit: &str) -> Markup {
    let n = labels.len().max(1) as f64;
    let step = step(values.iter().copied().max().unwrap_or(0), 4);
    let top = step * 4;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / n;
    let y = |v: i64| TOP + plot_h - plot_h * v as f64 / top as f64;
    // Every label when they fit, else one in `every`.
    let every = ((labels.len() as f64 * 14.0 / plot_w).ceil() as usize).max(1);
    html! {
        figure.wif-chart {
            svg viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-labelledby=(format!("{id}-titre")) {
                title #(format!("{id}-titre")) { (title) }
                @for i in 0..=4 {
                    @let v = step * i;
                    line.wif-grid x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y(v)) y2=(y(v)) {}
                    text.wif-axis x=(LEFT - 6.0) y=(y(v) + 4.0) text-anchor="end" { (number(v)) }
                }
                @for (i, (label, value)) in labels.iter().zip(values).enumerate() {
                    @let x = LEFT + slot * i as f64;
                    rect.wif-bar x=(x + slot * 0.15) y=(y(*value)) width=(slot * 0.7) height=(y(0) - y(*value)) {
                        title { (label) " : " (number(*value)) " " (unit) }
                    }
                    @if i % every == 0 {
                        text.wif-axis x=(x + slot / 2.0) y=(HEIGHT - BOTTOM + 14.0) text-anchor="end"
                            transform=(format!("rotate(-45 {} {})", x + slot / 2.0, HEIGHT - BOTTOM + 14.0)) { (label) }
                    }
                }
            }
            figcaption { (title) }
        }
    }
}

/// Horizontal bars, for long labels (countries).
pub fn horizontal_bars(id: &str, title: &str, labels: &[String], values: &[i64]) -> Markup {
    let row = 22.0;
    let left = 190.0;
    let height = TOP + row * labels.len().max(1) as f64 + 8.0;
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let plot_w = WIDTH - left - 70.0;
    html! {
        figure.wif-chart {
            svg viewBox=(format!("0 0 {WIDTH} {height}")) role="img" aria-labelledby=(format!("{id}-titre")) {
                title #(format!("{id}-titre")) { (title) }
                @for (i, (label, value)) in labels.iter().zip(values).enumerate() {
                    @let y = TOP + row * i as f64;
                    text.wif-axis x=(left - 8.0) y=(y + 15.0) text-anchor="end" { (label) }
                    rect.wif-bar x=(left) y=(y + 3.0) width=(plot_w * *value as f64 / max) height=(row - 6.0) {
                        title { (label) " : " (number(*value)) }
                    }
                    text.wif-axis x=(left + plot_w * *value as f64 / max + 6.0) y=(y + 15.0) { (number(*value)) }
                }
            }
            figcaption { (title) }
        }
    }
}

/// The figures of a chart, as a table.
pub fn table(
    lang: Lang,
    caption: &str,
    heading: (&str, &str),
    labels: &[String],
    values: &[i64],
) -> Markup {
    html! {
        details.wif-figures {
            summary { (lang.pick("Voir les chiffres : ", "See the figures: ")) (caption) }
            div.fr-table { table {
                caption { (caption) }
                thead { tr { th scope="col" { (heading.0) } th scope="col" { (heading.1) } } }
                tbody {
                    @for (label, value) in labels.iter().zip(values) {
                        tr { th scope="row" { (label) } td { (number(*value)) } }
                    }
                }
            } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_steps_are_round_and_cover_the_maximum() {
        assert_eq!(step(0, 4), 1);
        assert_eq!(step(7, 4), 2);
        assert_eq!(step(95, 4), 50);
        assert_eq!(step(1234, 4), 500);
        for max in [1, 9, 99, 101, 4_001, 123_456] {
            assert!(step(max, 4) * 4 >= max, "{max}");
        }
    }

    #[test]
    fn labels_are_escaped_and_every_value_has_a_bar_and_a_row() {
        let labels = vec!["<Côte d'Ivoire>".to_owned(), "Mali".to_owned()];
        let chart = bars("c", "Essai", &labels, &[3, 0], "dossiers").into_string();
        assert!(chart.contains("&lt;Côte d'Ivoire&gt;") && !chart.contains("<Côte"));
        assert_eq!(chart.matches("<rect").count(), 2);
        let rows = table(Lang::Fr, "Essai", ("Pays", "Dossiers"), &labels, &[3, 0]).into_string();
        assert_eq!(rows.matches("<tr>").count(), 3, "a header and two rows");
    }
}
