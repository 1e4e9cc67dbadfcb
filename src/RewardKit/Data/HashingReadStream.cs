using System.Security.Cryptography;

namespace RewardKit.Data;

/// <summary>
/// A forward-only read of a file that (when asked) hashes every byte as it passes, so a file is opened and read exactly
/// once: a pipe, a FIFO or <c>/dev/stdin</c> reads as well as a regular file, and the sha256 needs no second pass. It
/// never seeks and never asks for the length (a pipe has neither).
/// </summary>
internal sealed class HashingReadStream(Stream inner, bool hash) : Stream
{
    readonly IncrementalHash? _sha = hash ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
    byte[] _pending = [];
    int _pendingStart;

    /// <summary>True when the underlying file can seek (a regular file), so it could be read a second time; false for a pipe.</summary>
    public bool InnerCanSeek => inner.CanSeek;

    /// <summary>Bytes read so far.</summary>
    public long BytesRead { get; private set; }

    /// <summary>
    /// Consumes a UTF-8 byte order mark when the stream starts with one (true); otherwise the bytes peeked are handed
    /// out again by the next reads. Call before any other read.
    /// </summary>
    public bool SkipByteOrderMark()
    {
        var head = new byte[3];
        var n = 0;
        while (n < 3)
        {
            var r = Read(head, n, 3 - n);
            if (r == 0) break;
            n += r;
        }
        if (n == 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF) return true;
        _pending = head[..n];
        _pendingStart = 0;
        return false;
    }

    /// <summary>Reads what is left (hashing it) and returns the sha256 (lower-case hex) of the whole stream; null when not hashing.</summary>
    public string? FinishSha256()
    {
        if (_sha is null) return null;
        var buffer = new byte[1 << 16];
        while (Read(buffer, 0, buffer.Length) > 0) { }
        return Convert.ToHexStringLower(_sha.GetHashAndReset());
    }

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc/>
    public override int Read(Span<byte> buffer)
    {
        if (_pendingStart < _pending.Length)
        {
            var n = Math.Min(buffer.Length, _pending.Length - _pendingStart);
            _pending.AsSpan(_pendingStart, n).CopyTo(buffer);
            _pendingStart += n;
            return n; // already hashed when peeked
        }
        var read = inner.Read(buffer);
        _sha?.AppendData(buffer[..read]);
        BytesRead += read;
        return read;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            _sha?.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <inheritdoc/>
    public override bool CanRead => true;
    /// <inheritdoc/>
    public override bool CanSeek => false;
    /// <inheritdoc/>
    public override bool CanWrite => false;
    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();
    /// <inheritdoc/>
    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
    /// <inheritdoc/>
    public override void Flush() { }
    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();
    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
