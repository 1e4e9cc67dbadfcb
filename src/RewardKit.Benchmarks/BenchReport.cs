using System.Text;
using System.Text.Json;

namespace RewardKit.Benchmarks;

/// <summary>
/// An ordered set of named results printed as one JSON line, with the reference's conventions: field names in
/// snake_case as <c>torch_rm_bench.py</c> prints them, floating-point values rounded to 4 decimals.
/// </summary>
public sealed class BenchReport
{
    readonly List<KeyValuePair<string, object?>> _fields = [];

    /// <summary>The fields in insertion order.</summary>
    public IReadOnlyList<KeyValuePair<string, object?>> Fields => _fields;

    /// <summary>Sets <paramref name="name"/> to <paramref name="value"/> (a string, bool, int, long, double or double[]; null prints null), replacing an earlier value.</summary>
    public BenchReport Set(string name, object? value)
    {
        int i = _fields.FindIndex(f => f.Key == name);
        if (i >= 0) _fields[i] = new(name, value);
        else _fields.Add(new(name, value));
        return this;
    }

    /// <summary>The value of <paramref name="name"/> (throws <see cref="KeyNotFoundException"/> when absent).</summary>
    public object? this[string name] => _fields.Find(f => f.Key == name) is { Key: not null } f ? f.Value : throw new KeyNotFoundException($"no field '{name}' in the report.");

    /// <summary>True when the report has a field <paramref name="name"/>.</summary>
    public bool Contains(string name) => _fields.Exists(f => f.Key == name);

    /// <summary>One line of JSON.</summary>
    public string ToJsonLine()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            foreach (var (name, value) in _fields)
            {
                w.WritePropertyName(name);
                WriteValue(w, value);
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    static void WriteValue(Utf8JsonWriter w, object? value)
    {
        switch (value)
        {
            case null: w.WriteNullValue(); break;
            case string s: w.WriteStringValue(s); break;
            case bool b: w.WriteBooleanValue(b); break;
            case int i: w.WriteNumberValue(i); break;
            case long l: w.WriteNumberValue(l); break;
            case double d: WriteDouble(w, d); break;
            case float f: WriteDouble(w, f); break;
            case double[] array:
                w.WriteStartArray();
                foreach (var d in array) WriteDouble(w, d);
                w.WriteEndArray();
                break;
            default: throw new ArgumentException($"BenchReport: cannot write a {value.GetType().Name}.");
        }
    }

    static void WriteDouble(Utf8JsonWriter w, double d)
    {
        if (double.IsFinite(d)) w.WriteNumberValue(Math.Round(d, 4));
        else w.WriteNullValue(); // JSON has no NaN; the reference never prints one either
    }
}
