using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace RewardKit.Server;

/// <summary>
/// A small Prometheus text-format (0.0.4) exporter: a <see cref="MeterListener"/> aggregates the measurements of one
/// meter's instruments (counters summed, gauges and observable values kept as last value, histograms bucketed) and
/// <see cref="Render"/> writes them out. Names: dots become underscores, counters get <c>_total</c>, seconds get <c>_seconds</c>.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    static readonly double[] SecondsBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    static readonly double[] CountBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

    sealed class Series
    {
        public double Value;
        public long Count;
        public double Sum;
        public long[]? Buckets;
    }

    sealed class Family(Instrument instrument)
    {
        public Instrument Instrument { get; } = instrument;
        public Dictionary<string, Series> Series { get; } = new(StringComparer.Ordinal);
        public double[] Bounds { get; } = instrument.Unit == "s" ? SecondsBuckets : CountBuckets;
    }

    readonly MeterListener _listener = new();
    readonly Dictionary<Instrument, Family> _families = new();
    readonly Lock _lock = new();

    /// <summary>Listens to the instruments of <paramref name="meter"/> only (other hosts in the process are ignored).</summary>
    public PrometheusExporter(Meter meter)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (!ReferenceEquals(instrument.Meter, meter)) return;
            lock (_lock) _families[instrument] = new Family(instrument);
            listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    /// <summary>The content type of <see cref="Render"/>'s output.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var key = Labels(tags);
        lock (_lock)
        {
            if (!_families.TryGetValue(instrument, out var family)) return;
            if (!family.Series.TryGetValue(key, out var s)) family.Series[key] = s = new Series();
            switch (instrument)
            {
                case Counter<long> or Counter<int> or Counter<double>: s.Value += value; break;
                case Histogram<double> or Histogram<int> or Histogram<long>:
                    s.Buckets ??= new long[family.Bounds.Length];
                    for (var b = 0; b < family.Bounds.Length; b++) if (value <= family.Bounds[b]) s.Buckets[b]++;
                    s.Count++;
                    s.Sum += value;
                    break;
                default: s.Value = value; break; // gauges and observable (cumulative) values
            }
        }
    }

    /// <summary>The current values in Prometheus text format.</summary>
    public string Render()
    {
        _listener.RecordObservableInstruments();
        var text = new StringBuilder();
        lock (_lock)
        {
            foreach (var family in _families.Values.OrderBy(f => f.Instrument.Name, StringComparer.Ordinal))
            {
                var i = family.Instrument;
                var name = i.Name.Replace('.', '_').Replace('-', '_');
                if (i.Unit == "s") name += "_seconds";
                var (type, suffix) = i switch
                {
                    Counter<long> or Counter<int> or Counter<double> or ObservableCounter<long> or ObservableCounter<int> or ObservableCounter<double> => ("counter", "_total"),
                    Histogram<double> or Histogram<int> or Histogram<long> => ("histogram", ""),
                    _ => ("gauge", ""),
                };
                if (i.Description is { Length: > 0 } d) text.Append("# HELP ").Append(name).Append(suffix).Append(' ').Append(d.Replace("\\", "\\\\").Replace("\n", "\\n")).Append('\n');
                text.Append("# TYPE ").Append(name).Append(suffix).Append(' ').Append(type).Append('\n');
                foreach (var (labels, s) in family.Series.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (type != "histogram")
                    {
                        text.Append(name).Append(suffix).Append(Braces(labels)).Append(' ').Append(Number(s.Value)).Append('\n');
                        continue;
                    }
                    for (var b = 0; b < family.Bounds.Length; b++)
                        text.Append(name).Append("_bucket").Append(Braces(Join(labels, $"le=\"{Number(family.Bounds[b])}\""))).Append(' ').Append(s.Buckets![b]).Append('\n');
                    text.Append(name).Append("_bucket").Append(Braces(Join(labels, "le=\"+Inf\""))).Append(' ').Append(s.Count).Append('\n');
                    text.Append(name).Append("_sum").Append(Braces(labels)).Append(' ').Append(Number(s.Sum)).Append('\n');
                    text.Append(name).Append("_count").Append(Braces(labels)).Append(' ').Append(s.Count).Append('\n');
                }
            }
        }
        return text.ToString();
    }

    static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0) return "";
        var parts = new List<string>(tags.Length);
        foreach (var (k, v) in tags)
        {
            var value = Convert.ToString(v, CultureInfo.InvariantCulture) ?? "";
            parts.Add($"{k.Replace('.', '_')}=\"{value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n")}\"");
        }
        parts.Sort(StringComparer.Ordinal);
        return string.Join(',', parts);
    }

    static string Join(string labels, string extra) => labels.Length == 0 ? extra : labels + "," + extra;
    static string Braces(string labels) => labels.Length == 0 ? "" : "{" + labels + "}";
    static string Number(double v) => double.IsPositiveInfinity(v) ? "+Inf" : v.ToString("R", CultureInfo.InvariantCulture);

    /// <inheritdoc/>
    public void Dispose() => _listener.Dispose();
}
