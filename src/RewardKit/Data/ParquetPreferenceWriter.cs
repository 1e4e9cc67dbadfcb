using System.Globalization;
using Parquet;
using Parquet.Schema;

namespace RewardKit.Data;

/// <summary>
/// Parquet writer (Parquet.Net): the columns of <see cref="CsvRows"/> for the format, number columns as nullable
/// doubles and the rest as nullable UTF-8 strings holding the same cells the CSV writer writes (lists, labels, messages
/// and extras as JSON text), so a file reads back as the same records. Records are buffered and written one row group
/// of <see cref="RowGroupSize"/> rows at a time, so memory stays bounded for any file size.
/// </summary>
public sealed class ParquetPreferenceWriter : PreferenceWriter
{
    /// <summary>Rows per row group.</summary>
    public const int RowGroupSize = 10_000;

    readonly Stream _stream;
    readonly List<string?[]> _rows = [];
    string[]? _columns;
    DataField[]? _fields;
    ParquetWriter? _writer;

    /// <summary>A writer onto <paramref name="stream"/> (disposed with the writer).</summary>
    public ParquetPreferenceWriter(Stream stream) => _stream = stream;

    /// <inheritdoc />
    protected override void WriteRecord(PreferenceRecord record)
    {
        _columns ??= record switch
        {
            PreferencePair => CsvRows.PairColumns,
            RankedGroup => CsvRows.RankingColumns,
            _ => CsvRows.RatingColumns,
        };
        var cells = new string?[_columns.Length];
        for (var i = 0; i < cells.Length; i++) cells[i] = CsvPreferenceWriter.Cell(record, _columns[i]);
        _rows.Add(cells);
        if (_rows.Count == RowGroupSize) Flush();
    }

    void Flush()
    {
        _columns ??= CsvRows.PairColumns; // an empty file is a valid pairs file with no rows
        if (_writer is null)
        {
            _fields = [.. _columns.Select(c => CsvRows.NumberColumns.Contains(c) ? (DataField)new DataField<double?>(c) : new DataField<string>(c, true))];
            _writer = ParquetWriter.CreateAsync(new ParquetSchema(_fields), _stream).GetAwaiter().GetResult();
        }
        if (_rows.Count == 0) return;
        using (var group = _writer.CreateRowGroup())
        {
            for (var c = 0; c < _columns.Length; c++)
            {
                if (_fields![c] is DataField<double?>)
                {
                    var values = _rows.Select(r => r[c] is { } text ? double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture) : (double?)null).ToArray();
                    group.WriteAsync<double>(_fields[c], values.AsMemory()).GetAwaiter().GetResult();
                }
                else
                {
                    group.WriteAsync(_fields[c], _rows.Select(r => r[c]).ToArray()!).GetAwaiter().GetResult();
                }
            }
        }
        _rows.Clear();
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        Flush();
        _writer!.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _stream.Dispose();
    }
}
