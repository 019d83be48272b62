"""Builds an Alipay trade bill archive with an independent implementation (Python's own zip
and GBK codecs), shaped like Alipay's: GBK entry names without the UTF-8 flag, deflated GBK CSV
files, the details between `#` lines, every field followed by a tab. The Rust tests parse it.

    python3 server/connectors/testdata/alipay_bill.py > server/connectors/testdata/alipay_bill.zip
"""
import zipfile, io, sys
header="支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注"
def row(f): return ",".join(x+"\t" for x in f)
r1=row(["2026120122001400001","VLA1","交易","电费充值","2026-12-01 10:00:00","2026-12-01 10:00:05","","","","","159****5620","42.50","42.50","0.00","0.00","0.00","0.00","0.00","","0.00","0.00","","0.26","0.00",""])
r2=row(["2026120122001400001","VLA1","退款","电费充值","2026-12-01 10:00:00","2026-12-01 15:30:00","","","","","159****5620","-12.50","-12.50","0.00","0.00","0.00","0.00","0.00","","0.00","0.00","RF1","0.00","0.00",""])
details="#支付宝业务明细查询\r\n#账号：[20880000000000010156]\r\n#起始日期：[2026年12月01日 00:00:00]   终止日期：[2026年12月02日 00:00:00]\r\n#-----------------------------------------业务明细列表----------------------------------------\r\n"+header+"\r\n"+r1+"\r\n"+r2+"\r\n#-----------------------------------------业务明细列表结束------------------------------------\r\n#交易合计：1笔，退款合计：1笔\r\n#导出时间：[2026年12月02日 09:00:00]\r\n"
totals="#支付宝业务汇总查询\r\n合计,,1,1\r\n"
class GbkName(zipfile.ZipInfo):
    def _encodeFilenameFlags(self):
        return self.filename.encode("gbk"), self.flag_bits
buf=io.BytesIO()
with zipfile.ZipFile(buf,"w",zipfile.ZIP_DEFLATED) as z:
    for name,text in [("20880000000000010156_20261201_业务明细(汇总).csv",totals),("20880000000000010156_20261201_业务明细.csv",details)]:
        zi=GbkName(name, date_time=(2026,12,2,9,0,0))
        zi.compress_type=zipfile.ZIP_DEFLATED
        z.writestr(zi, text.encode("gbk"))
sys.stdout.buffer.write(buf.getvalue())
