"""Accuracy of a scored test split by pair group and family, beside the Bayes bound of each group.
Usage: python3 world_pair_breakdown.py TEST.jsonl SCORED.jsonl
SCORED is `rewardkit score --model M/model --data TEST.jsonl --out SCORED.jsonl` (rows in the same order).
"points lost" = share x (Bayes - model), so the groups' losses add up to the gap."""
import json,sys,collections
test=[json.loads(l) for l in open(sys.argv[1])]
sc=[json.loads(l) for l in open(sys.argv[2])]
assert len(test)==len(sc),(len(test),len(sc))
SURF={'polite','padded','repeated','keyword_stuffing','rude'}
def parse(k):
    if '+' in k: a,b=k.split('+',1); return a,b
    if k in SURF: return k,'good'
    if k in ('correct','helpful_refusal'): return None,'good'
    return None,k
def group(d):
    (s1,b1),(s2,b2)=parse(d['kind_chosen']),parse(d['kind_rejected'])
    if b1==b2 and (s1 is None)!=(s2 is None): return 'plain-vs-variant' + ('' if b1=='good' else '(bad base)')
    if s1 and s2: return 'variant-vs-variant'
    k={b1,b2}
    if k & SURF and k - SURF <= {'correct','helpful_refusal'} and len(k-SURF)==1: return 'plain-vs-variant'
    if k <= SURF: return 'variant-vs-variant'
    if 'off_topic' in k: return 'off_topic'
    if 'wrong_answer' in k: return 'wrong'
    return 'other'
agg=collections.defaultdict(lambda:[0,0.0,0.0])
tot=[0,0.0,0.0]
for d,s in zip(test,sc):
    rc=s.get('reward_chosen'); rr=s.get('reward_rejected')
    ok=1.0 if rc>rr else (0.5 if rc==rr else 0.0)
    b=max(d['p_true'],1-d['p_true'])
    for key in (group(d),'fam:'+d['category']):
        a=agg[key]; a[0]+=1; a[1]+=ok; a[2]+=b
    tot[0]+=1; tot[1]+=ok; tot[2]+=b
n=tot[0]
print(f"ALL n={n} acc={tot[1]/n:.4f} bayes={tot[2]/n:.4f} gap={100*(tot[2]-tot[1])/n:.1f}")
for k in sorted(agg):
    c,a,b=agg[k]
    print(f"{k:20s} share={c/n:.3f} model={a/c:.3f} bayes={b/c:.3f} lost={100*(b-a)/n:.1f}")
