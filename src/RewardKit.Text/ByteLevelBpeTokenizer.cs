using System.Buffers;
using System.Text;

namespace RewardKit.Text;

/// <summary>A token that is matched as a whole in the text (when asked) instead of going through BPE.</summary>
/// <param name="Content">The token's text, e.g. <c>&lt;|endoftext|&gt;</c>.</param>
/// <param name="Id">Its id.</param>
public sealed record SpecialToken(string Content, int Id);

/// <summary>
/// GPT-2's byte-level BPE, giving exactly the ids of the OpenAI / Hugging Face / gpt-tokenizer implementations:
/// GPT-2 pre-tokenisation (<see cref="Gpt2PreTokenizer"/>), then for every piece the lowest-ranked adjacent pair is
/// merged (all its occurrences, left to right) until no pair has a rank. Decoding returns the original bytes.
/// Encoding is thread-safe; each thread uses its own bounded merge cache.
/// </summary>
public sealed class ByteLevelBpeTokenizer
{
    /// <summary>GPT-2's end-of-text token.</summary>
    public const string EndOfText = "<|endoftext|>";

    /// <summary>RewardKit's padding token, added when a vocabulary has none (kept distinct from end-of-text).</summary>
    public const string Pad = "<|pad|>";

    /// <summary>Pieces longer than this many bytes are merged but not cached.</summary>
    const int MaxCachedPieceBytes = 64;

    /// <summary>Pieces longer than this go through the O(n log n) heap merge instead of the O(n^2) reference loop.</summary>
    const int HeapMergeMinBytes = 256;

    readonly byte[][] _idToBytes;
    readonly Dictionary<string, int> _tokenToId;
    readonly (int Left, int Right)[] _merges;          // in rank order
    readonly Dictionary<long, int> _pairRank;          // (left << 32 | right) -> rank
    readonly int[] _mergedId;                          // rank -> id of the merged token
    readonly int[] _byteToId = new int[256];
    readonly SpecialToken[] _specialTokens;
    readonly byte[][] _specialBytes;
    readonly MergeCachePool _caches;

    /// <summary>
    /// Builds a tokenizer from its parts. <paramref name="tokens"/> holds every id's bytes (ids 0..n-1, no gaps) and
    /// must contain all 256 single bytes; each merge (left id, right id) in rank order must yield a token that exists.
    /// </summary>
    /// <param name="tokens">The bytes of each id.</param>
    /// <param name="merges">Merge rules by rank (rank 0 first), as pairs of ids.</param>
    /// <param name="specialTokens">Tokens matched whole when encoding with <c>allowSpecial</c>.</param>
    /// <param name="mergeCacheCapacity">Entries per thread's merge cache before it is cleared (default 65,536).</param>
    public ByteLevelBpeTokenizer(IReadOnlyList<byte[]> tokens, IReadOnlyList<(int Left, int Right)> merges,
        IReadOnlyList<SpecialToken> specialTokens, int mergeCacheCapacity = 65_536)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(merges);
        ArgumentNullException.ThrowIfNull(specialTokens);
        if (mergeCacheCapacity < 1) throw new ArgumentOutOfRangeException(nameof(mergeCacheCapacity), "must be at least 1");

        _idToBytes = tokens.ToArray();
        _specialTokens = specialTokens.ToArray();
        var specialIds = new HashSet<int>(_specialTokens.Select(t => t.Id));
        foreach (var t in _specialTokens)
            if (t.Id < 0 || t.Id >= _idToBytes.Length)
                throw new ArgumentException($"special token '{t.Content}' has id {t.Id}, outside the vocabulary of {_idToBytes.Length}.", nameof(specialTokens));

        _tokenToId = new Dictionary<string, int>(_idToBytes.Length);
        var bytesToId = new Dictionary<byte[], int>(_idToBytes.Length, ByteSpanComparer.Instance);
        Array.Fill(_byteToId, -1);
        for (int id = 0; id < _idToBytes.Length; id++)
        {
            var b = _idToBytes[id] ?? throw new ArgumentException($"token {id} has no bytes.", nameof(tokens));
            if (specialIds.Contains(id)) continue;
            _tokenToId.TryAdd(ByteLevel.BytesToToken(b), id);
            bytesToId.TryAdd(b, id);
            if (b.Length == 1 && _byteToId[b[0]] < 0) _byteToId[b[0]] = id;
        }
        for (int b = 0; b < 256; b++)
            if (_byteToId[b] < 0)
                throw new ArgumentException($"the vocabulary has no token for byte 0x{b:X2} ('{ByteLevel.ByteToChar((byte)b)}'); a byte-level BPE vocabulary needs all 256 bytes.", nameof(tokens));
        foreach (var t in _specialTokens) _tokenToId[t.Content] = t.Id;

        _merges = merges.ToArray();
        _pairRank = new Dictionary<long, int>(_merges.Length);
        _mergedId = new int[_merges.Length];
        for (int rank = 0; rank < _merges.Length; rank++)
        {
            var (l, r) = _merges[rank];
            if ((uint)l >= (uint)_idToBytes.Length || (uint)r >= (uint)_idToBytes.Length)
                throw new ArgumentException($"merge {rank} refers to id {l} or {r}, outside the vocabulary.", nameof(merges));
            var joined = Concat(_idToBytes[l], _idToBytes[r]);
            if (!bytesToId.TryGetValue(joined, out int merged))
                throw new ArgumentException($"merge {rank} ('{ByteLevel.BytesToToken(_idToBytes[l])} {ByteLevel.BytesToToken(_idToBytes[r])}') makes '{ByteLevel.BytesToToken(joined)}', which is not in the vocabulary; the vocabulary and merges do not belong together.", nameof(merges));
            _pairRank.TryAdd(PairKey(l, r), rank); // a repeated merge keeps its first (lowest) rank
            _mergedId[rank] = merged;
        }

        _specialBytes = _specialTokens.Select(t => Encoding.UTF8.GetBytes(t.Content)).ToArray();
        EndOfTextId = IdOfSpecial(EndOfText);
        PadId = IdOfSpecial(Pad);
        _caches = new MergeCachePool(Environment.ProcessorCount * 2, mergeCacheCapacity);
    }

    /// <summary>Number of ids (the model's embedding rows), special tokens included.</summary>
    public int VocabSize => _idToBytes.Length;

    /// <summary>The id of <c>&lt;|endoftext|&gt;</c>, or -1 when the vocabulary has none.</summary>
    public int EndOfTextId { get; }

    /// <summary>The id of <c>&lt;|pad|&gt;</c>, or -1 when the vocabulary has none; never equal to <see cref="EndOfTextId"/>.</summary>
    public int PadId { get; }

    /// <summary>The special tokens, matched whole only when encoding with <c>allowSpecial</c>.</summary>
    public IReadOnlyList<SpecialToken> SpecialTokens => _specialTokens;

    /// <summary>The merge rules in rank order, as pairs of ids.</summary>
    public IReadOnlyList<(int Left, int Right)> Merges => _merges;

    /// <summary>The bytes of token <paramref name="id"/>.</summary>
    public ReadOnlySpan<byte> TokenBytes(int id) => _idToBytes[id];

    /// <summary>The vocabulary-file form of token <paramref name="id"/> (bytes shown through <see cref="ByteLevel"/>; special tokens as written).</summary>
    public string TokenText(int id)
    {
        foreach (var t in _specialTokens) if (t.Id == id) return t.Content;
        return ByteLevel.BytesToToken(_idToBytes[id]);
    }

    /// <summary>The id of a token given in vocabulary-file form, or null.</summary>
    public int? TokenToId(string token) => _tokenToId.TryGetValue(token, out int id) ? id : null;

    int IdOfSpecial(string content)
    {
        foreach (var t in _specialTokens) if (t.Content == content) return t.Id;
        return -1;
    }

    // ---------------------------------------------------------------- loading and saving

    /// <summary>Loads OpenAI's GPT-2 files (<c>encoder.json</c>, <c>vocab.bpe</c>), the same format as Hugging Face's
    /// <c>vocab.json</c> and <c>merges.txt</c>. Adds <c>&lt;|pad|&gt;</c> as a new last id when there is none.</summary>
    public static ByteLevelBpeTokenizer FromGpt2Files(string encoderJsonPath, string vocabBpePath) =>
        TokenizerFiles.ReadVocabAndMerges(encoderJsonPath, vocabBpePath);

    /// <summary>Loads a Hugging Face <c>tokenizer.json</c> (model BPE with a ByteLevel pre-tokenizer).
    /// Adds <c>&lt;|pad|&gt;</c> as a new last id when there is none.</summary>
    public static ByteLevelBpeTokenizer FromTokenizerJson(string path) => TokenizerFiles.ReadTokenizerJson(path);

    /// <summary>
    /// Loads the tokenizer in <paramref name="dir"/>: <c>tokenizer.json</c> if present, else <c>vocab.json</c> +
    /// <c>merges.txt</c>, else <c>encoder.json</c> + <c>vocab.bpe</c>.
    /// </summary>
    public static ByteLevelBpeTokenizer FromDirectory(string dir)
    {
        if (!Directory.Exists(dir))
            throw new DirectoryNotFoundException($"tokenizer directory '{dir}' does not exist; pass a folder holding tokenizer.json, vocab.json + merges.txt, or encoder.json + vocab.bpe.");
        string P(string name) => Path.Combine(dir, name);
        if (File.Exists(P("tokenizer.json"))) return FromTokenizerJson(P("tokenizer.json"));
        if (File.Exists(P("vocab.json")) && File.Exists(P("merges.txt"))) return FromGpt2Files(P("vocab.json"), P("merges.txt"));
        if (File.Exists(P("encoder.json")) && File.Exists(P("vocab.bpe"))) return FromGpt2Files(P("encoder.json"), P("vocab.bpe"));
        throw new FileNotFoundException($"no tokenizer in '{dir}': expected tokenizer.json, or vocab.json + merges.txt, or encoder.json + vocab.bpe.");
    }

    /// <summary>Writes a Hugging Face <c>tokenizer.json</c> (BPE model, ByteLevel pre-tokenizer and decoder, added tokens).</summary>
    public void SaveTokenizerJson(string path) => TokenizerFiles.WriteTokenizerJson(this, path);

    /// <summary>
    /// Writes <c>tokenizer.json</c>, <c>vocab.json</c>, <c>merges.txt</c>, <c>tokenizer_config.json</c> and
    /// <c>special_tokens_map.json</c> into <paramref name="dir"/> (created if needed), so both RewardKit and Hugging
    /// Face <c>AutoTokenizer</c> open it.
    /// </summary>
    public void Save(string dir) => TokenizerFiles.WriteDirectory(this, dir);

    // ---------------------------------------------------------------- encoding

    /// <summary>Encodes <paramref name="text"/>. Special tokens in the text are matched whole only when
    /// <paramref name="allowSpecial"/> is true; otherwise "&lt;|endoftext|&gt;" is plain text.</summary>
    public int[] Encode(string text, bool allowSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0) return [];
        byte[]? rented = null;
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        Span<byte> buffer = max <= 1024 ? stackalloc byte[max] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            int n = Encoding.UTF8.GetBytes(text, buffer);
            return Encode(buffer.Slice(0, n), allowSpecial);
        }
        finally
        {
            if (rented != null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Encodes raw bytes; bytes that are not valid UTF-8 are kept and come back from <see cref="DecodeBytes"/>.</summary>
    public int[] Encode(ReadOnlySpan<byte> utf8, bool allowSpecial = false)
    {
        var output = new IdBuffer(utf8.Length / 3 + 16);
        var cache = _caches.Rent();
        try
        {
            if (allowSpecial && _specialBytes.Length > 0)
            {
                int start = 0;
                while (true)
                {
                    int at = FindSpecial(utf8, start, out int which);
                    if (at < 0) { EncodeOrdinary(utf8.Slice(start), ref output, cache); break; }
                    EncodeOrdinary(utf8.Slice(start, at - start), ref output, cache);
                    output.Add(_specialTokens[which].Id);
                    start = at + _specialBytes[which].Length;
                }
            }
            else
            {
                EncodeOrdinary(utf8, ref output, cache);
            }
            return output.ToArray();
        }
        finally
        {
            _caches.Return(cache);
            output.Dispose();
        }
    }

    /// <summary>The number of tokens <paramref name="text"/> encodes to.</summary>
    public int CountTokens(string text, bool allowSpecial = false) => Encode(text, allowSpecial).Length;

    /// <summary>Encodes many texts in parallel (order kept). <paramref name="threads"/> &lt;= 0 means all cores.</summary>
    public int[][] EncodeBatch(IReadOnlyList<string> texts, int threads = 0, bool allowSpecial = false,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var result = new int[texts.Count][];
        int degree = threads <= 0 ? Environment.ProcessorCount : threads;
        if (degree == 1 || texts.Count < 2)
        {
            for (int i = 0; i < texts.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                result[i] = Encode(texts[i], allowSpecial);
            }
            return result;
        }
        // Chunks of records keep the per-record overhead of the scheduler small.
        int chunk = Math.Max(1, Math.Min(256, texts.Count / (degree * 8)));
        int chunks = (texts.Count + chunk - 1) / chunk;
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = degree, CancellationToken = cancellationToken }, c =>
        {
            int end = Math.Min(texts.Count, (c + 1) * chunk);
            for (int i = c * chunk; i < end; i++) result[i] = Encode(texts[i], allowSpecial);
        });
        return result;
    }

    int FindSpecial(ReadOnlySpan<byte> s, int start, out int which)
    {
        which = -1;
        int best = -1;
        for (int k = 0; k < _specialBytes.Length; k++)
        {
            int at = s.Slice(start).IndexOf(_specialBytes[k]);
            if (at < 0) continue;
            at += start;
            if (best < 0 || at < best || (at == best && _specialBytes[k].Length > _specialBytes[which].Length))
            {
                best = at;
                which = k;
            }
        }
        return best;
    }

    void EncodeOrdinary(ReadOnlySpan<byte> s, ref IdBuffer output, MergeCache cache)
    {
        for (int i = 0; i < s.Length;)
        {
            int len = Gpt2PreTokenizer.NextPieceLength(s, i);
            EncodePiece(s.Slice(i, len), ref output, cache);
            i += len;
        }
    }

    void EncodePiece(ReadOnlySpan<byte> piece, ref IdBuffer output, MergeCache cache)
    {
        if (piece.Length == 1) { output.Add(_byteToId[piece[0]]); return; }
        bool cacheable = piece.Length <= MaxCachedPieceBytes;
        if (cacheable && cache.TryGet(piece, out var cached)) { output.AddRange(cached); return; }

        if (piece.Length > HeapMergeMinBytes)
        {
            output.AddRange(MergeWithHeap(piece));
            return;
        }
        Span<int> symbols = stackalloc int[piece.Length];
        {
            int count = Merge(piece, symbols);
            var ids = symbols.Slice(0, count);
            output.AddRange(ids);
            if (cacheable) cache.Add(piece, ids.ToArray());
        }
    }

    /// <summary>
    /// The reference BPE loop (naive and exact): start from single bytes; repeatedly take the adjacent pair with the
    /// lowest merge rank and merge every occurrence of it from left to right; stop when no pair has a rank.
    /// Returns the number of symbols left in <paramref name="symbols"/>.
    /// </summary>
    int Merge(ReadOnlySpan<byte> piece, Span<int> symbols)
    {
        int count = piece.Length;
        for (int i = 0; i < count; i++) symbols[i] = _byteToId[piece[i]];
        while (count > 1)
        {
            int bestRank = int.MaxValue;
            for (int i = 0; i + 1 < count; i++)
                if (_pairRank.TryGetValue(PairKey(symbols[i], symbols[i + 1]), out int rank) && rank < bestRank)
                    bestRank = rank;
            if (bestRank == int.MaxValue) break;

            var (left, right) = _merges[bestRank];
            int merged = _mergedId[bestRank];
            int w = 0;
            for (int r = 0; r < count; r++)
            {
                if (r + 1 < count && symbols[r] == left && symbols[r + 1] == right)
                {
                    symbols[w++] = merged;
                    r++;
                }
                else symbols[w++] = symbols[r];
            }
            count = w;
        }
        return count;
    }

    /// <summary>
    /// The same result as <see cref="Merge"/> in O(n log n), for long pieces: symbols form a linked list, and a heap
    /// ordered by (rank, position) yields the occurrences of the lowest rank from left to right. To match the
    /// reference exactly, a "round" merges every occurrence of one rank; pairs that the round creates with a lower
    /// rank wait until the round ends (the reference only sees them in its next scan).
    /// </summary>
    int[] MergeWithHeap(ReadOnlySpan<byte> piece)
    {
        int n = piece.Length;
        var sym = new int[n];
        var next = new int[n];
        var prev = new int[n];
        for (int i = 0; i < n; i++)
        {
            sym[i] = _byteToId[piece[i]];
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        var heap = new PriorityQueue<int, (int Rank, int Pos)>();
        for (int i = 0; i + 1 < n; i++)
            if (_pairRank.TryGetValue(PairKey(sym[i], sym[i + 1]), out int r)) heap.Enqueue(i, (r, i));

        var deferred = new List<(int Rank, int Pos)>();
        int round = -1;
        void Offer(int pos, int currentRank)
        {
            int nx = next[pos];
            if (nx < 0 || !_pairRank.TryGetValue(PairKey(sym[pos], sym[nx]), out int r)) return;
            if (r < currentRank) deferred.Add((r, pos));
            else heap.Enqueue(pos, (r, pos));
        }
        while (heap.TryPeek(out _, out var top))
        {
            if (top.Rank != round)
            {
                if (deferred.Count > 0)
                {
                    // The round is over: pairs it made with lower ranks join the heap before choosing the next rank.
                    foreach (var d in deferred) heap.Enqueue(d.Pos, d);
                    deferred.Clear();
                    continue;
                }
                round = top.Rank;
            }
            heap.Dequeue();
            int pos = top.Pos, right = next[pos];
            var (l, rr) = _merges[top.Rank];
            if (sym[pos] < 0 || right < 0 || sym[pos] != l || sym[right] != rr) continue; // stale entry
            sym[pos] = _mergedId[top.Rank];
            sym[right] = -1;
            next[pos] = next[right];
            if (next[pos] >= 0) prev[next[pos]] = pos;
            if (prev[pos] >= 0) Offer(prev[pos], round);
            Offer(pos, round);
        }
        var result = new List<int>();
        for (int i = 0; i >= 0; i = next[i]) result.Add(sym[i]);
        return [.. result];
    }

    /// <summary>Test hooks: one piece through the reference loop, and through the heap merge.</summary>
    internal int[] MergeReferenceForTests(ReadOnlySpan<byte> piece)
    {
        var symbols = new int[piece.Length];
        return symbols.AsSpan(0, Merge(piece, symbols)).ToArray();
    }

    internal int[] MergeWithHeapForTests(ReadOnlySpan<byte> piece) => MergeWithHeap(piece);

    static long PairKey(int left, int right) => ((long)left << 32) | (uint)right;

    static byte[] Concat(byte[] a, byte[] b)
    {
        var r = new byte[a.Length + b.Length];
        a.CopyTo(r, 0);
        b.CopyTo(r, a.Length);
        return r;
    }

    // ---------------------------------------------------------------- decoding

    /// <summary>The bytes that <paramref name="ids"/> stand for (special tokens as their text).</summary>
    public byte[] DecodeBytes(ReadOnlySpan<int> ids)
    {
        int total = 0;
        for (int i = 0; i < ids.Length; i++)
        {
            int id = ids[i];
            if ((uint)id >= (uint)_idToBytes.Length)
                throw new ArgumentOutOfRangeException(nameof(ids), $"id {id} at position {i} is outside the vocabulary (0..{_idToBytes.Length - 1}).");
            total += _idToBytes[id].Length;
        }
        var result = new byte[total];
        int at = 0;
        foreach (int id in ids)
        {
            var b = _idToBytes[id];
            b.CopyTo(result, at);
            at += b.Length;
        }
        return result;
    }

    /// <summary>The text that <paramref name="ids"/> stand for; byte sequences that are not valid UTF-8 become U+FFFD
    /// (use <see cref="DecodeBytes"/> to keep them).</summary>
    public string Decode(ReadOnlySpan<int> ids) => Encoding.UTF8.GetString(DecodeBytes(ids));

    /// <summary>A growable int buffer from the array pool.</summary>
    struct IdBuffer(int capacity) : IDisposable
    {
        int[] _items = ArrayPool<int>.Shared.Rent(Math.Max(16, capacity));
        int _count;

        public void Add(int id)
        {
            if (_count == _items.Length) Grow(_count + 1);
            _items[_count++] = id;
        }

        public void AddRange(ReadOnlySpan<int> ids)
        {
            if (_count + ids.Length > _items.Length) Grow(_count + ids.Length);
            ids.CopyTo(_items.AsSpan(_count));
            _count += ids.Length;
        }

        void Grow(int needed)
        {
            var bigger = ArrayPool<int>.Shared.Rent(Math.Max(needed, _items.Length * 2));
            _items.AsSpan(0, _count).CopyTo(bigger);
            ArrayPool<int>.Shared.Return(_items);
            _items = bigger;
        }

        public readonly int[] ToArray() => _items.AsSpan(0, _count).ToArray();

        public void Dispose()
        {
            ArrayPool<int>.Shared.Return(_items);
            _items = [];
        }
    }
}
