using System.Text;
using FsCheck;
using FsCheck.Fluent;
using RewardKit.Text;

namespace RewardKit.Text.Tests;

/// <summary>decode(encode(x)) == x for random Unicode text and random bytes, on GPT-2 and on a trained vocabulary.</summary>
public class PropertyTests
{
    static readonly Config Quick = Config.QuickThrowOnFailure.WithMaxTest(400);

    /// <summary>Strings of random Unicode scalar values, biased towards the ASCII, Latin, CJK and emoji ranges.</summary>
    static Arbitrary<string> UnicodeStrings()
    {
        var scalar = Gen.Frequency<int>(
            (4, Gen.Choose(0x20, 0x7E)),
            (2, Gen.Elements(0x20, 0x0A, 0x09, 0x27, 0xA0, 0x3000, 0xFEFF, 0x85)),
            (2, Gen.Choose(0x80, 0x2FF)),
            (1, Gen.Choose(0x4E00, 0x9FFF)),
            (1, Gen.Choose(0x1F300, 0x1FAFF)),
            (1, Gen.Choose(0, 0x10FFFF).Where(v => v is < 0xD800 or > 0xDFFF)));
        return Gen.ArrayOf(scalar).Select(vs => string.Concat(vs.Select(char.ConvertFromUtf32))).ToArbitrary();
    }

    [Fact]
    public void Random_unicode_round_trips_through_a_trained_tokenizer()
    {
        var tok = TestCorpus.Tokenizer;
        Check.One(Quick, Prop.ForAll(UnicodeStrings(), s => tok.Decode(tok.Encode(s)) == s));
    }

    [Fact]
    public void Random_bytes_round_trip_through_a_trained_tokenizer_including_invalid_utf8()
    {
        var tok = TestCorpus.Tokenizer;
        Check.One(Quick, Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), b => tok.DecodeBytes(tok.Encode(b)).AsSpan().SequenceEqual(b)));
    }

    [SharedDataFact]
    public void Random_unicode_round_trips_through_gpt2()
    {
        var tok = Gpt2.Tokenizer;
        Check.One(Quick, Prop.ForAll(UnicodeStrings(), s => tok.Decode(tok.Encode(s)) == s));
    }

    [SharedDataFact]
    public void Random_bytes_round_trip_through_gpt2_including_invalid_utf8()
    {
        var tok = Gpt2.Tokenizer;
        Check.One(Quick, Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), b => tok.DecodeBytes(tok.Encode(b)).AsSpan().SequenceEqual(b)));
    }

    [Fact]
    public void Any_dotnet_string_round_trips_as_its_utf8_bytes()
    {
        // .NET strings may hold lone surrogates; like JavaScript's TextEncoder they encode as U+FFFD.
        var tok = TestCorpus.Tokenizer;
        Check.One(Quick, Prop.ForAll(ArbMap.Default.ArbFor<string>().Filter(s => s != null), s =>
            tok.DecodeBytes(tok.Encode(s)).AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(s))));
    }
}
