import { describe, expect, it } from 'vitest'
import { add, cmp, formatFixed, formatMoney, growthPercent, isDecimal, neg, parseAmount, round, sub, sum, mul } from '@/lib/decimal'

describe('decimal strings', () => {
  it('adds without float error', () => {
    expect(add('0.1', '0.2')).toBe('0.3')
    expect(sum(['100.10', '200.20', '0.01'])).toBe('300.31')
    expect(sum([])).toBe('0')
    expect(add('-5.00', '2.5')).toBe('-2.50')
    expect(sub('10', '0.01')).toBe('9.99')
    expect(neg('-3.20')).toBe('3.20')
    expect(add('99999999999999999.99', '0.01')).toBe('100000000000000000.00')
  })
  it('compares', () => {
    expect(cmp('1.10', '1.1')).toBe(0)
    expect(cmp('-0.01', '0')).toBe(-1)
    expect(cmp('2', '1.999')).toBe(1)
  })
  it('rounds half away from zero', () => {
    expect(round('1.005', 2)).toBe('1.01')
    expect(round('-1.005', 2)).toBe('-1.01')
    expect(round('1.004', 2)).toBe('1.00')
    expect(round('7', 2)).toBe('7.00')
  })
  it('formats money with two decimals and grouping', () => {
    expect(formatMoney('1234567.8')).toBe('1,234,567.80')
    expect(formatMoney('-0.5')).toBe('-0.50')
    expect(formatMoney(null)).toBe('—')
    expect(formatFixed('0.28561', 4)).toBe('0.2856')
  })
  it('accepts only positive amounts with at most two decimals', () => {
    expect(parseAmount('100')).toBe('100')
    expect(parseAmount(' 12.50 ')).toBe('12.50')
    expect(parseAmount('abc')).toBeNull()
    expect(parseAmount('-5')).toBeNull()
    expect(parseAmount('0')).toBeNull()
    expect(parseAmount('1.234')).toBeNull()
    expect(parseAmount('1e3')).toBeNull()
    expect(isDecimal('-1.5')).toBe(true)
  })
  it('computes growth in percent with one decimal', () => {
    expect(growthPercent('110', '100')).toBe('10.0')
    expect(growthPercent('90', '100')).toBe('-10.0')
    expect(growthPercent('1', '3')).toBe('-66.7')
    expect(growthPercent('5', '0')).toBeNull()
  })
  it('multiplies exactly', () => {
    expect(mul('100.00', '1.5')).toBe('150.000')
  })
})
