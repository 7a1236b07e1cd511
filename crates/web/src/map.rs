//! Choropleth maps of Morocco drawn on the server as SVG: the boundaries of the regions and
//! provinces (`data/territories/*.geojson`, compiled in) are parsed once, projected and simplified
//! for the viewport once per map, and each page only colours the shapes. Territories are matched
//! by their HCP code (`hcp_code`: `05` for a region, `05.081` for a province), the codes of
//! `sanad_domain::Territories`.
//!
//! The projection is equirectangular with the longitudes shrunk by the cosine of the map's middle
//! latitude (at Morocco's size the difference from a conformal projection does not show); the rings
//! are simplified with Douglas–Peucker to half a unit of the viewport, which keeps the map of the
//! regions under 60 KB.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::LazyLock;

use serde_json::Value;

/// Width of every map's viewport; the height follows the territory's shape.
pub const WIDTH: f64 = 600.0;
/// The tolerance of the simplification, in viewport units.
pub const TOLERANCE: f64 = 0.5;
/// Classes of a choropleth.
pub const CLASSES: usize = 5;

/// A sequential ramp, light to dark (each step distinguishable from its neighbours; the legend
/// writes its text beside the swatches, on the page's background).
pub const RAMP: [&str; CLASSES] = ["#e3f1ec", "#a9d5c7", "#64b09c", "#2b8572", "#0b5f59"];
/// The fill of a territory without a value.
pub const NO_DATA: &str = "#eeeeee";

const REGIONS_GEOJSON: &str = include_str!("../../../data/territories/morocco_regions.geojson");
const PROVINCES_GEOJSON: &str = include_str!("../../../data/territories/morocco_provinces.geojson");

/// A point in longitude and latitude, or in viewport units once projected.
type Point = [f64; 2];
/// Polygons of rings (the first ring of each polygon its outline, the others its holes).
type Shape = Vec<Vec<Point>>;

/// One territory's boundary.
#[derive(Debug, Clone)]
struct Boundary {
    code: String,
    /// The region of a province (the code itself for a region).
    region: String,
    rings: Shape,
}

fn parse(text: &str) -> Vec<Boundary> {
    let Ok(doc) = serde_json::from_str::<Value>(text) else {
        return Vec::new();
    };
    let features = doc["features"].as_array().cloned().unwrap_or_default();
    features
        .iter()
        .filter_map(|f| {
            let code = f["properties"]["hcp_code"].as_str()?.to_string();
            let region = f["properties"]["region_code"]
                .as_str()
                .unwrap_or(&code)
                .to_string();
            let geometry = &f["geometry"];
            let polygons: Vec<&Value> = match geometry["type"].as_str()? {
                "Polygon" => vec![&geometry["coordinates"]],
                "MultiPolygon" => geometry["coordinates"].as_array()?.iter().collect(),
                _ => return None,
            };
            let rings = polygons
                .into_iter()
                .filter_map(|p| p.as_array())
                .flatten()
                .map(|ring| {
                    ring.as_array()
                        .map(|pts| {
                            pts.iter()
                                .filter_map(|p| Some([p[0].as_f64()?, p[1].as_f64()?]))
                                .collect::<Vec<Point>>()
                        })
                        .unwrap_or_default()
                })
                .filter(|r| r.len() >= 3)
                .collect();
            Some(Boundary {
                code,
                region,
                rings,
            })
        })
        .collect()
}

static REGIONS: LazyLock<Vec<Boundary>> = LazyLock::new(|| parse(REGIONS_GEOJSON));
static PROVINCES: LazyLock<Vec<Boundary>> = LazyLock::new(|| parse(PROVINCES_GEOJSON));

/// A map ready to be coloured: its viewport and the path data of each territory.
#[derive(Debug, Clone)]
pub struct MapFrame {
    pub width: f64,
    pub height: f64,
    /// `(HCP code, SVG path data)`, in the order of the boundaries file.
    pub shapes: Vec<(String, String)>,
}

/// The map of the twelve regions.
pub fn regions() -> &'static MapFrame {
    static FRAME: LazyLock<MapFrame> = LazyLock::new(|| frame(&REGIONS.iter().collect::<Vec<_>>()));
    &FRAME
}

/// The map of a region's provinces, when the region is known.
pub fn provinces_of(region: &str) -> Option<&'static MapFrame> {
    static FRAMES: LazyLock<HashMap<String, MapFrame>> = LazyLock::new(|| {
        let mut by_region: HashMap<String, Vec<&Boundary>> = HashMap::new();
        for b in PROVINCES.iter() {
            by_region.entry(b.region.clone()).or_default().push(b);
        }
        by_region
            .into_iter()
            .map(|(region, boundaries)| (region, frame(&boundaries)))
            .collect()
    });
    FRAMES.get(region)
}

/// A projection fitted to a bounding box: `x` grows east, `y` grows south, both in viewport units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    west: f64,
    north: f64,
    /// cos of the middle latitude.
    shrink: f64,
    scale: f64,
}

impl Projection {
    /// Fits `[west, south, east, north]` (degrees) to a viewport `width` wide.
    pub fn fit(bbox: [f64; 4], width: f64) -> Projection {
        let [west, south, east, north] = bbox;
        let shrink = ((south + north) / 2.0).to_radians().cos();
        let span = ((east - west) * shrink).max(1e-9);
        Projection {
            west,
            north,
            shrink,
            scale: width / span,
        }
    }

    pub fn project(&self, [lon, lat]: Point) -> Point {
        [
            (lon - self.west) * self.shrink * self.scale,
            (self.north - lat) * self.scale,
        ]
    }

    /// The viewport's height for the box it was fitted to.
    pub fn height(&self, south: f64) -> f64 {
        (self.north - south) * self.scale
    }
}

fn bbox<'a>(points: impl Iterator<Item = &'a Point>) -> [f64; 4] {
    points.fold(
        [f64::MAX, f64::MAX, f64::MIN, f64::MIN],
        |[w, s, e, n], [x, y]| [w.min(*x), s.min(*y), e.max(*x), n.max(*y)],
    )
}

fn frame(boundaries: &[&Boundary]) -> MapFrame {
    let all = boundaries.iter().flat_map(|b| b.rings.iter().flatten());
    let bb = bbox(all);
    let projection = Projection::fit(bb, WIDTH);
    let shapes = boundaries
        .iter()
        .map(|b| {
            let rings: Vec<Vec<Point>> = b
                .rings
                .iter()
                .map(|r| r.iter().map(|p| projection.project(*p)).collect::<Vec<_>>())
                .collect();
            (b.code.clone(), path_data(&rings, TOLERANCE))
        })
        .collect();
    MapFrame {
        width: WIDTH,
        height: projection.height(bb[1]).ceil(),
        shapes,
    }
}

/// The squared distance from `p` to the segment `a`–`b`.
fn segment_distance2(p: Point, a: Point, b: Point) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
    };
    let (x, y) = (a[0] + t * dx - p[0], a[1] + t * dy - p[1]);
    x * x + y * y
}

/// Douglas–Peucker: the points of `line` kept so that no point dropped lies farther than
/// `tolerance` from the simplified line. The first and last points are always kept.
pub fn simplify(line: &[Point], tolerance: f64) -> Vec<Point> {
    if line.len() <= 2 {
        return line.to_vec();
    }
    let mut keep = vec![false; line.len()];
    keep[0] = true;
    keep[line.len() - 1] = true;
    let limit = tolerance * tolerance;
    // An explicit stack: the coastline of a region has thousands of points.
    let mut stack = vec![(0usize, line.len() - 1)];
    while let Some((first, last)) = stack.pop() {
        let (mut farthest, mut at) = (0.0, first);
        for i in first + 1..last {
            let d = segment_distance2(line[i], line[first], line[last]);
            if d > farthest {
                farthest = d;
                at = i;
            }
        }
        if farthest > limit {
            keep[at] = true;
            stack.push((first, at));
            stack.push((at, last));
        }
    }
    line.iter()
        .zip(keep)
        .filter_map(|(p, k)| k.then_some(*p))
        .collect()
}

/// A closed ring simplified: split at its farthest point from the start, so that both halves
/// are open lines Douglas–Peucker can handle.
fn simplify_ring(ring: &[Point], tolerance: f64) -> Vec<Point> {
    let start = ring[0];
    let far = (1..ring.len())
        .max_by(|&a, &b| {
            let da = (ring[a][0] - start[0]).powi(2) + (ring[a][1] - start[1]).powi(2);
            let db = (ring[b][0] - start[0]).powi(2) + (ring[b][1] - start[1]).powi(2);
            da.total_cmp(&db)
        })
        .unwrap_or(0);
    let mut out = simplify(&ring[..=far], tolerance);
    let mut second = simplify(&ring[far..], tolerance);
    out.pop();
    out.append(&mut second);
    out
}

/// The SVG path data of projected rings, simplified; rings smaller than the tolerance (islets)
/// are left out. Coordinates keep one decimal.
pub fn path_data(rings: &[Vec<Point>], tolerance: f64) -> String {
    let mut d = String::new();
    for ring in rings {
        let [w, s, e, n] = bbox(ring.iter());
        if (e - w).max(n - s) < tolerance * 2.0 {
            continue;
        }
        let points = simplify_ring(ring, tolerance);
        if points.len() < 3 {
            continue;
        }
        let mut last = (i64::MIN, i64::MIN);
        for (i, p) in points.iter().enumerate() {
            let q = ((p[0] * 10.0).round() as i64, (p[1] * 10.0).round() as i64);
            if q == last {
                continue;
            }
            d.push(if i == 0 { 'M' } else { 'L' });
            let _ = write!(d, "{} {}", tenths(q.0), tenths(q.1));
            last = q;
        }
        d.push('Z');
    }
    d
}

/// A number of tenths written with at most one decimal (`123`, `12.5`).
fn tenths(n: i64) -> String {
    if n < 0 {
        format!("-{}", tenths(-n))
    } else if n % 10 == 0 {
        (n / 10).to_string()
    } else {
        format!("{}.{}", n / 10, n % 10)
    }
}

/// The upper bounds of up to `classes` quantile classes of `values` (ascending, the last is the
/// largest value); fewer classes when there are fewer distinct values.
pub fn quantile_breaks(values: &[f64], classes: usize) -> Vec<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() || classes == 0 {
        return Vec::new();
    }
    sorted.sort_by(f64::total_cmp);
    let mut breaks: Vec<f64> = (1..=classes)
        .map(|k| {
            let at = (k * sorted.len()).div_ceil(classes).saturating_sub(1);
            sorted[at.min(sorted.len() - 1)]
        })
        .collect();
    breaks.dedup();
    breaks
}

/// The class of a value: the first whose upper bound it does not exceed (the last for larger).
pub fn class_of(value: f64, breaks: &[f64]) -> usize {
    breaks
        .iter()
        .position(|b| value <= *b)
        .unwrap_or(breaks.len().saturating_sub(1))
}

/// The colour of class `class` out of `classes`, spread over the ramp.
pub fn colour(class: usize, classes: usize) -> &'static str {
    if classes <= 1 {
        return RAMP[CLASSES / 2];
    }
    RAMP[(class * (CLASSES - 1)) / (classes - 1)]
}

/// One territory on a choropleth.
#[derive(Debug, Clone)]
pub struct Area {
    pub code: String,
    /// The territory and its value in words (the shape's title).
    pub title: String,
    pub value: Option<f64>,
    /// Where a click goes (down to the provinces); none for a shape that is not a link.
    pub href: Option<String>,
}

/// One line of a map's legend.
#[derive(Debug, Clone)]
pub struct LegendItem {
    pub colour: &'static str,
    pub label: String,
}

/// A coloured map and its legend.
#[derive(Debug, Clone)]
pub struct Choropleth {
    pub svg: String,
    pub legend: Vec<LegendItem>,
}

/// Escapes text for SVG content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Colours a map: each territory of `areas` by its value's class, shapes without an area in grey.
/// `label` names the map for screen readers; `range` writes a class's bounds in the reader's
/// words, `no_data` the legend of the grey.
pub fn choropleth(
    frame: &MapFrame,
    areas: &[Area],
    label: &str,
    range: impl Fn(f64, f64) -> String,
    no_data: &str,
) -> Choropleth {
    let values: Vec<f64> = areas.iter().filter_map(|a| a.value).collect();
    let breaks = quantile_breaks(&values, CLASSES);
    let by_code: HashMap<&str, &Area> = areas.iter().map(|a| (a.code.as_str(), a)).collect();
    let mut svg = String::with_capacity(64 * 1024);
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" aria-label=\"{}\">",
        frame.width,
        frame.height,
        escape(label)
    );
    let mut grey = false;
    for (code, d) in &frame.shapes {
        let area = by_code.get(code.as_str());
        let fill = match area.and_then(|a| a.value) {
            Some(v) => colour(class_of(v, &breaks), breaks.len()),
            None => {
                grey = true;
                NO_DATA
            }
        };
        let path = format!(
            "<path d=\"{d}\" fill=\"{fill}\" stroke=\"#ffffff\" stroke-width=\"0.8\">{}</path>",
            area.map(|a| format!("<title>{}</title>", escape(&a.title)))
                .unwrap_or_default()
        );
        match area.and_then(|a| a.href.as_ref().map(|h| (a, h))) {
            Some((a, href)) => {
                let _ = write!(
                    svg,
                    "<a href=\"{}\" aria-label=\"{}\">{path}</a>",
                    escape(href),
                    escape(&a.title)
                );
            }
            None => svg.push_str(&path),
        }
    }
    svg.push_str("</svg>");
    let mut legend = Vec::new();
    let mut low = values.iter().copied().fold(f64::INFINITY, f64::min);
    for (i, b) in breaks.iter().enumerate() {
        legend.push(LegendItem {
            colour: colour(i, breaks.len()),
            label: range(low, *b),
        });
        low = *b;
    }
    if grey || values.is_empty() {
        legend.push(LegendItem {
            colour: NO_DATA,
            label: no_data.to_string(),
        });
    }
    Choropleth { svg, legend }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn every_region_and_province_of_the_boundaries_is_a_territory_of_the_registry() {
        assert_eq!(regions().shapes.len(), 12);
        let provinces: usize = (1..=12)
            .map(|r| provinces_of(&format!("{r:02}")).unwrap().shapes.len())
            .sum();
        assert_eq!(provinces, 75);
        for (code, d) in regions().shapes.iter() {
            assert_eq!(code.len(), 2, "{code}");
            assert!(d.starts_with('M') && d.ends_with('Z'), "{code}");
        }
        for b in PROVINCES.iter() {
            assert!(b.code.starts_with(&format!("{}.", b.region)), "{}", b.code);
        }
    }

    #[test]
    fn the_map_of_the_regions_stays_small() {
        let bytes: usize = regions().shapes.iter().map(|(_, d)| d.len()).sum();
        assert!(bytes < 60_000, "{bytes} bytes of path data");
        assert!(regions().height > 300.0 && regions().height < 1200.0);
    }

    #[test]
    fn the_projection_puts_north_up_and_west_left() {
        let p = Projection::fit([-10.0, 30.0, -2.0, 36.0], 600.0);
        let [x0, y0] = p.project([-10.0, 36.0]);
        assert!(x0.abs() < 1e-9 && y0.abs() < 1e-9);
        let [x1, y1] = p.project([-2.0, 30.0]);
        assert!((x1 - 600.0).abs() < 1e-9);
        assert!(y1 > 0.0 && (y1 - p.height(30.0)).abs() < 1e-9);
        // Longitudes shrink with the latitude: Morocco's box is taller than a plain grid's.
        assert!(p.height(30.0) > 600.0 * 6.0 / 8.0);
    }

    #[test]
    fn a_straight_line_keeps_its_ends_only() {
        let line: Vec<Point> = (0..50)
            .map(|i| [f64::from(i), 2.0 * f64::from(i)])
            .collect();
        assert_eq!(simplify(&line, 0.1), vec![[0.0, 0.0], [49.0, 98.0]]);
        let bent = vec![[0.0, 0.0], [5.0, 5.0], [10.0, 0.0]];
        assert_eq!(simplify(&bent, 1.0).len(), 3);
    }

    #[test]
    fn classes_of_a_few_values() {
        assert_eq!(quantile_breaks(&[], 5), Vec::<f64>::new());
        assert_eq!(quantile_breaks(&[3.0, 3.0], 5), vec![3.0]);
        let b = quantile_breaks(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 5);
        assert_eq!(b, vec![2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(class_of(1.0, &b), 0);
        assert_eq!(class_of(10.0, &b), 4);
        assert_eq!(colour(0, 5), RAMP[0]);
        assert_eq!(colour(1, 2), RAMP[4]);
    }

    #[test]
    fn a_choropleth_links_each_territory_with_its_title() {
        let areas = vec![Area {
            code: "05".into(),
            title: "Fès-Meknès: 12 <&>".into(),
            value: Some(12.0),
            href: Some("/?region=05&measure=gap".into()),
        }];
        let c = choropleth(regions(), &areas, "map", |a, b| format!("{a}–{b}"), "none");
        assert!(c.svg.contains("<a href=\"/?region=05&amp;measure=gap\""));
        assert!(
            c.svg
                .contains("<title>Fès-Meknès: 12 &lt;&amp;&gt;</title>")
        );
        assert_eq!(c.svg.matches("<path").count(), 12);
        assert_eq!(c.legend.len(), 2, "one class and the grey of the others");
        assert!(!c.svg.contains("style="));
    }

    proptest! {
        #[test]
        fn classes_cover_every_value_and_keep_the_order(values in prop::collection::vec(-1e6f64..1e6, 1..200)) {
            let breaks = quantile_breaks(&values, CLASSES);
            prop_assert!(!breaks.is_empty() && breaks.len() <= CLASSES);
            prop_assert!(breaks.windows(2).all(|w| w[0] < w[1]));
            let max = values.iter().copied().fold(f64::MIN, f64::max);
            prop_assert_eq!(*breaks.last().unwrap(), max);
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let classes: Vec<usize> = sorted.iter().map(|v| class_of(*v, &breaks)).collect();
            prop_assert!(classes.iter().all(|c| *c < breaks.len()));
            prop_assert!(classes.windows(2).all(|w| w[0] <= w[1]));
            // Every class is used.
            for k in 0..breaks.len() {
                prop_assert!(classes.contains(&k));
            }
        }

        #[test]
        fn a_simplified_line_stays_within_the_tolerance(ys in prop::collection::vec(-50f64..50.0, 3..100), tolerance in 0.1f64..5.0) {
            let line: Vec<Point> = ys.iter().enumerate().map(|(i, y)| [i as f64, *y]).collect();
            let kept = simplify(&line, tolerance);
            prop_assert_eq!(kept[0], line[0]);
            prop_assert_eq!(*kept.last().unwrap(), *line.last().unwrap());
            // Each dropped point lies within the tolerance of the kept segment over it.
            for p in &line {
                let seg = kept.windows(2).find(|w| w[0][0] <= p[0] && p[0] <= w[1][0]).unwrap();
                prop_assert!(segment_distance2(*p, seg[0], seg[1]).sqrt() <= tolerance + 1e-9);
            }
        }
    }
}
