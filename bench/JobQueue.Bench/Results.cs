using System.Globalization;

namespace JobQueue.Bench;

/// <summary>One measured figure; written as a TSV row the report script turns into tables.</summary>
internal sealed record Row(string Workload, string Level, int Workers, string Metric, double Value, string Unit, string Durability)
{
    public string ToTsv() => string.Join('\t', Workload, Level, Workers.ToString(CultureInfo.InvariantCulture), Metric,
        Value.ToString("0.###", CultureInfo.InvariantCulture), Unit, Durability);
}

internal static class Stats
{
    public static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        if (sorted.Count == 0) return double.NaN;
        var rank = p / 100.0 * (sorted.Count - 1);
        var lo = (int)Math.Floor(rank);
        var hi = (int)Math.Ceiling(rank);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }
}
