namespace RewardKit.Data;

/// <summary>
/// Splits a byte stream into lines on <c>\n</c> without decoding it, so a 1 GB file streams in 64 KiB chunks and a
/// 10 MB line is one buffer. Strips a trailing <c>\r</c> (counting it) and a leading UTF-8 byte order mark.
/// Lines longer than the limit are consumed but reported as too long instead of buffered.
/// </summary>
internal sealed class LineSplitter(Stream stream, int maxLineBytes)
{
    readonly byte[] _chunk = new byte[1 << 16];
    int _start, _end;
    bool _eof, _first = true;
    byte[] _line = new byte[1 << 12];

    /// <summary>The current line's bytes (valid until the next call); only the first <see cref="Length"/> count.</summary>
    public byte[] Buffer => _line;

    /// <summary>Length of the current line, without the line end.</summary>
    public int Length { get; private set; }

    /// <summary>True when the current line exceeded the limit (its bytes are not kept).</summary>
    public bool TooLong { get; private set; }

    /// <summary>True when the current line ended in CRLF.</summary>
    public bool Crlf { get; private set; }

    /// <summary>True when the stream began with a UTF-8 byte order mark.</summary>
    public bool HadBom { get; private set; }

    /// <summary>Total bytes consumed so far (for progress).</summary>
    public long Position { get; private set; }

    /// <summary>Advances to the next line; false at the end of the stream.</summary>
    public bool Next()
    {
        Length = 0;
        TooLong = false;
        Crlf = false;
        var seen = false;
        while (true)
        {
            if (_start == _end)
            {
                if (_eof || !Fill()) break;
            }
            if (_first)
            {
                _first = false;
                if (_end - _start >= 3 && _chunk[_start] == 0xEF && _chunk[_start + 1] == 0xBB && _chunk[_start + 2] == 0xBF)
                {
                    HadBom = true;
                    _start += 3;
                    Position += 3;
                }
            }
            seen = true;
            var span = _chunk.AsSpan(_start, _end - _start);
            var nl = span.IndexOf((byte)'\n');
            var take = nl < 0 ? span.Length : nl;
            Append(span[..take]);
            _start += take;
            Position += take;
            if (nl >= 0)
            {
                _start++;
                Position++;
                break;
            }
        }
        if (!seen) return false;
        if (!TooLong && Length > 0 && _line[Length - 1] == (byte)'\r')
        {
            Length--;
            Crlf = true;
        }
        return true;
    }

    bool Fill()
    {
        _start = 0;
        _end = stream.Read(_chunk, 0, _chunk.Length);
        if (_end == 0) _eof = true;
        return _end > 0;
    }

    void Append(ReadOnlySpan<byte> bytes)
    {
        if (TooLong || bytes.IsEmpty) return;
        if ((long)Length + bytes.Length > maxLineBytes)
        {
            TooLong = true;
            Length = 0;
            return;
        }
        if (Length + bytes.Length > _line.Length)
            Array.Resize(ref _line, Math.Max(_line.Length * 2, Length + bytes.Length));
        bytes.CopyTo(_line.AsSpan(Length));
        Length += bytes.Length;
    }
}
