// Metric names, units and number formats (DESIGN.md, "Metric names and units"), and the kinds
// of station and of alert, in both languages.
import { extend, has, t } from "./i18n.js";

extend({
  "zh-CN": {
    "metric.water_level": "水位",
    "metric.rainfall": "雨量",
    "metric.flow": "流量",
    "metric.pm25": "PM2.5",
    "metric.pm10": "PM10",
    "metric.aqi": "AQI",
    "metric.temperature": "气温",
    "metric.humidity": "湿度",
    "metric.wind_speed": "风速",
    "metric.noise": "噪声",
    "metric.battery": "电池电压",
    "unit.water_level": "m",
    "unit.rainfall": "mm",
    "unit.flow": "m³/s",
    "unit.pm25": "µg/m³",
    "unit.pm10": "µg/m³",
    "unit.aqi": "",
    "unit.temperature": "°C",
    "unit.humidity": "%",
    "unit.wind_speed": "m/s",
    "unit.noise": "dB(A)",
    "unit.battery": "V",
    "kind.water_level": "水位站",
    "kind.rain": "雨量站",
    "kind.air": "空气质量站",
    "kind.weather": "气象站",
    "level.water_level.warning": "警戒水位",
    "level.water_level.danger": "保证水位",
    "level.rise": "涨率限值",
    "alertkind.level": "超过阈值",
    "alertkind.rise": "涨速过快",
    "alertkind.rainstorm": "暴雨",
    "alertkind.air_quality": "空气污染",
    "alertkind.offline": "离线",
    "alertkind.intrusion": "区域入侵",
    "alertkind.motion_rate": "画面活动异常",
    "rate.per_hour": "{value}/h",
    "value.none": "—",
  },
  en: {
    "metric.water_level": "Water level",
    "metric.rainfall": "Rainfall",
    "metric.flow": "Flow",
    "metric.pm25": "PM2.5",
    "metric.pm10": "PM10",
    "metric.aqi": "AQI",
    "metric.temperature": "Temperature",
    "metric.humidity": "Humidity",
    "metric.wind_speed": "Wind speed",
    "metric.noise": "Noise",
    "metric.battery": "Battery",
    "unit.water_level": "m",
    "unit.rainfall": "mm",
    "unit.flow": "m³/s",
    "unit.pm25": "µg/m³",
    "unit.pm10": "µg/m³",
    "unit.aqi": "",
    "unit.temperature": "°C",
    "unit.humidity": "%",
    "unit.wind_speed": "m/s",
    "unit.noise": "dB(A)",
    "unit.battery": "V",
    "kind.water_level": "Water level",
    "kind.rain": "Rain gauge",
    "kind.air": "Air quality",
    "kind.weather": "Weather",
    "level.water_level.warning": "Warning level",
    "level.water_level.danger": "Danger level",
    "level.rise": "rise limit",
    "alertkind.level": "Threshold crossed",
    "alertkind.rise": "Rising fast",
    "alertkind.rainstorm": "Rainstorm",
    "alertkind.air_quality": "Air pollution",
    "alertkind.offline": "Offline",
    "alertkind.intrusion": "Intrusion",
    "alertkind.motion_rate": "Unusual motion",
    "rate.per_hour": "{value}/h",
    "value.none": "—",
  },
});

// Decimals shown per metric: enough for the thresholds that matter (water level to the cm).
const DIGITS = {
  water_level: 2,
  rainfall: 1,
  flow: 1,
  pm25: 0,
  pm10: 0,
  aqi: 0,
  temperature: 1,
  humidity: 0,
  wind_speed: 1,
  noise: 0,
  battery: 2,
};

export const LEVELS = ["warning", "danger", "critical"];

export function metricName(metric) {
  return has(`metric.${metric}`) ? t(`metric.${metric}`) : metric;
}

export function unit(metric) {
  return has(`unit.${metric}`) ? t(`unit.${metric}`) : "";
}

export function formatValue(metric, value) {
  if (value === null || value === undefined || Number.isNaN(value)) return t("value.none");
  const digits = DIGITS[metric] ?? 2;
  return Number(value).toFixed(digits);
}

/** "3.42 m"; a metric without a unit (AQI) is the bare number. */
export function withUnit(metric, value) {
  const u = unit(metric);
  const v = formatValue(metric, value);
  return u && v !== t("value.none") ? `${v} ${u}` : v;
}

/** The metric a station is known by: the first with thresholds, else the first it reports. */
export function primaryMetric(station) {
  return station.metrics.find((m) => station.thresholds[m]) || station.metrics[0];
}

/** A threshold's name: 警戒水位 / 保证水位 for water levels, else the severity it raises. */
export function levelName(metric, level) {
  const key = `level.${metric}.${level}`;
  return has(key) ? t(key) : t(`severity.${level}`);
}

/** An alert's value or threshold with its unit; a rate of rise is per hour. */
export function alertQuantity(alert, value) {
  const text = withUnit(alert.metric || "", value);
  return alert.kind === "rise" ? t("rate.per_hour", { value: text }) : text;
}

// Motion zones of the cameras (GET /api/cameras, `zones`): an intrusion alert's metric is a
// zone id, shown by the zone's name.
const zones = new Map(); // camera id -> Map(zone id -> name)

/** Learn the cameras' zone names (pages that list alerts call it with GET /api/cameras). */
export function learnZones(cameras) {
  for (const c of cameras) zones.set(c.id, new Map((c.zones || []).map((z) => [z.id, z.name || z.id])));
}

/** What an alert is about, in words: "水位 · 超过阈值", "坝顶 · 区域入侵". */
export function alertWhat(alert) {
  const kind = alertKind(alert);
  if (!alert.metric) return kind;
  if (alert.source && alert.source.type === "camera") {
    const zone = zones.get(alert.source.id)?.get(alert.metric) || alert.metric;
    return `${zone} · ${kind}`;
  }
  return `${metricName(alert.metric)} · ${kind}`;
}

/** The alert's kind in words; a kind this dashboard does not know shows the alert's message. */
export function alertKind(alert) {
  return has(`alertkind.${alert.kind}`) ? t(`alertkind.${alert.kind}`) : alert.message || alert.kind;
}
